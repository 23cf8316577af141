/**
 * Jobs and the WAL receiver run as `pgkeep` child processes (bin/pgkeep.js with --json): a crash
 * or a leak in one never takes the agent down, and the child's exit code (docs/exit-codes.md)
 * and JSON error become the job's result.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, EXIT } from '../errors.js';

const PGKEEP_BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));
/** Output kept from a child (the end of it): enough for any JSON result or error. */
const KEEP_BYTES = 4 * 1024 * 1024;

export interface ChildOutcome {
  exitCode: number | null;
  signal: string | null;
  errorCode?: string;
  /** One line: the error's message, or a summary of the result. */
  message: string;
  /** The parsed JSON result of a successful run, when it printed one. */
  result?: Record<string, unknown>;
}

export interface ChildHandle {
  pid: number | null;
  done: Promise<ChildOutcome>;
  /** SIGTERM: the command unwinds cleanly (nothing half-published) and exits INTERRUPTED. */
  terminate(): void;
  kill(): void;
}

/** Options every child gets so it acts on the agent's repository and the job's cluster. */
export function childGlobalArgs(opts: { configFile?: string; repository: string; cluster: string; passphraseFile?: string }): string[] {
  return [
    ...(opts.configFile ? ['--config', opts.configFile] : []),
    '--repo',
    opts.repository,
    '--cluster',
    opts.cluster,
    '--json',
    ...(opts.passphraseFile ? ['--passphrase-file', opts.passphraseFile] : []),
  ];
}

function keepTail(s: string): string {
  return s.length > KEEP_BYTES ? s.slice(-KEEP_BYTES) : s;
}

/** `onLine` receives stdout line by line (the receiver's JSON lines); otherwise stdout is parsed at the end. */
export function spawnPgkeep(args: string[], onLine?: (line: string) => void): ChildHandle {
  // The child stops by itself should the agent die without stopping it (src/cli/parent-watch.ts).
  const env = { ...process.env, PGKEEP_STOP_WITH_PARENT: String(process.pid) };
  const p = spawn(process.execPath, [PGKEEP_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  let pending = '';
  p.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (!onLine) {
      out = keepTail(out + d);
      return;
    }
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      out = keepTail(line);
      if (line.trim()) onLine(line);
    }
  });
  p.stderr.setEncoding('utf8').on('data', (d: string) => (err = keepTail(err + d)));
  const done = new Promise<ChildOutcome>((res) => {
    p.on('error', (e) => res({ exitCode: null, signal: null, errorCode: 'INTERNAL', message: `cannot start pgkeep: ${e.message}` }));
    p.on('close', (code, signal) => res(outcome(code, signal, out, err)));
  });
  return {
    pid: p.pid ?? null,
    done,
    terminate: () => void p.kill('SIGTERM'),
    kill: () => void p.kill('SIGKILL'),
  };
}

function outcome(exitCode: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string): ChildOutcome {
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(stdout.trim()) as Record<string, unknown>;
  } catch {
    parsed = undefined;
  }
  const error = parsed?.error as { code?: string; message?: string } | undefined;
  if (error?.message) return { exitCode, signal, errorCode: error.code, message: error.message };
  const lastErr = stderr.trim().split('\n').pop() ?? '';
  if (signal) return { exitCode, signal, errorCode: 'INTERRUPTED', message: `ended by ${signal}${lastErr ? `: ${lastErr}` : ''}` };
  if (exitCode !== EXIT.OK) {
    const code = Object.entries(ERROR_CODES).find(([, n]) => n === exitCode)?.[0];
    return { exitCode, signal, errorCode: code, message: lastErr || `exited with code ${exitCode}` };
  }
  return { exitCode, signal, message: summary(parsed), result: parsed };
}

function summary(r: Record<string, unknown> | undefined): string {
  if (!r) return 'done';
  for (const key of ['snapshotId', 'id'])
    if (typeof r[key] === 'string') return `${key === 'snapshotId' ? 'snapshot' : 'id'} ${r[key] as string}`;
  return 'done';
}

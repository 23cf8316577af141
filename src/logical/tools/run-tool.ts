/**
 * Running a PostgreSQL client tool as a child process: stdout as a stream for the caller,
 * stderr read line by line (handed to a callback, and its tail kept for error messages), the
 * exit status as a promise, and the signal killing the tool.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { PgkeepError } from '../../errors.js';

export interface ToolRunOptions {
  env: NodeJS.ProcessEnv;
  /** 'pipe' gives `stdin`; default 'ignore'. */
  stdin?: 'pipe' | 'ignore';
  /** 'pipe' gives `stdout`; 'ignore' discards it; default 'pipe'. */
  stdout?: 'pipe' | 'ignore';
  signal?: AbortSignal;
  /** Every stderr line, as it comes. */
  onStderrLine?: (line: string) => void;
  /** Lines of stderr kept for the result (default 200). */
  keepLines?: number;
  cwd?: string;
}

export interface ToolExit {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of stderr. */
  stderr: string[];
}

export interface ToolRun {
  child: ChildProcess;
  name: string;
  stdin?: Writable;
  stdout?: Readable;
  /** Resolves when the process has exited and stderr is fully read; never rejects. */
  exit: Promise<ToolExit>;
}

export function runTool(path: string, args: string[], opts: ToolRunOptions): ToolRun {
  const name = basename(path);
  const child = spawn(path, args, {
    env: opts.env,
    cwd: opts.cwd,
    stdio: [opts.stdin ?? 'ignore', opts.stdout ?? 'pipe', 'pipe'],
  });
  const keep = opts.keepLines ?? 200;
  const stderr: string[] = [];
  const lines = createInterface({ input: child.stderr!, crlfDelay: Infinity });
  lines.on('line', (line) => {
    stderr.push(line);
    if (stderr.length > keep) stderr.shift();
    opts.onStderrLine?.(line);
  });
  const stderrDone = new Promise<void>((res) => lines.once('close', () => res()));
  const onAbort = () => child.kill('SIGTERM');
  if (opts.signal?.aborted) queueMicrotask(onAbort);
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  // Writing to a tool that exited early (pg_restore -l stops after the TOC) must not crash us.
  child.stdin?.on('error', () => {});
  const exit = new Promise<ToolExit>((res) => {
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    child.once('close', async (code, sig) => {
      opts.signal?.removeEventListener('abort', onAbort);
      await stderrDone;
      if (spawnError) stderr.push(`${name}: could not run ${path}: ${spawnError.message}`);
      res({ code: spawnError ? 127 : code, signal: sig, stderr });
    });
  });
  return { child, name, stdin: child.stdin ?? undefined, stdout: child.stdout ?? undefined, exit };
}

/** The last `n` non-empty stderr lines as one message. */
export function stderrTail(lines: string[], n = 8): string {
  return lines
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}

/** A PgkeepError for a tool that failed. */
export function toolFailed(what: string, name: string, exit: ToolExit, hint?: string): PgkeepError {
  const how = exit.code !== null ? `exit code ${exit.code}` : `killed by ${exit.signal}`;
  const tail = stderrTail(exit.stderr);
  return new PgkeepError(
    exit.code === 127 ? 'TOOL_MISSING' : 'SERVER_NOT_READY',
    `${what}: ${name} failed (${how})${tail ? `:\n${tail}` : ''}`,
    {
      hint,
      details: { tool: name, exitCode: exit.code, signal: exit.signal, stderr: exit.stderr.slice(-20) },
    },
  );
}

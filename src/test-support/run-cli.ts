/**
 * Run the real CLI (`node bin/pgkeep.js ...`) as a child process for tests that need a process
 * of their own: another OS user (uid/gid), a signal sent while it runs, or its wall-clock time.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PGKEEP_BIN = join(resolve(fileURLToPath(import.meta.url), '../../..'), 'bin', 'pgkeep.js');

export interface CliRun {
  code: number | null;
  /** The signal that ended the process, when it did not exit by itself. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds from start to exit. */
  ms: number;
  /** Milliseconds from the signal sent (`kill`) to exit. */
  msAfterKill?: number;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Send this signal once stderr/stdout contains `killWhen` (or after `killAfterMs`). */
  kill?: NodeJS.Signals;
  killAfterMs?: number;
  killWhen?: RegExp;
  /** Kill -9 after this long: a safety net so a hanging command cannot hang the test. */
  hardLimitMs?: number;
}

export function runCli(args: string[], o: CliOptions = {}): Promise<CliRun> {
  return new Promise((res, rej) => {
    const began = Date.now();
    const child = spawn(process.execPath, [PGKEEP_BIN, ...args], {
      cwd: o.cwd,
      env: o.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    let killedAt: number | undefined;
    const sendKill = () => {
      if (killedAt !== undefined || !o.kill) return;
      killedAt = Date.now();
      child.kill(o.kill);
    };
    const watch = () => {
      if (o.killWhen && o.killWhen.test(stdout + stderr)) sendKill();
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      watch();
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      watch();
    });
    const timers = [
      o.killAfterMs !== undefined ? setTimeout(sendKill, o.killAfterMs) : undefined,
      setTimeout(() => child.kill('SIGKILL'), o.hardLimitMs ?? 180_000),
    ];
    child.on('error', rej);
    child.on('close', (code, signal) => {
      for (const t of timers) if (t) clearTimeout(t);
      const now = Date.now();
      res({ code, signal, stdout, stderr, ms: now - began, ...(killedAt !== undefined ? { msAfterKill: now - killedAt } : {}) });
    });
  });
}

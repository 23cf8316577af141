/**
 * The real CLI (bin/pgkeep.js) as a child process, for the fault-injection tests: spawn it in a
 * clean environment, wait for an observable point with a bound, kill it with SIGKILL there, and
 * run commands to completion with a time limit (a hung command fails the test with its output).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, watch } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const BIN = join(ROOT, 'bin', 'pgkeep.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (never rejects). */
  exit: Promise<CliResult>;
  exited(): boolean;
}

/** The environment of a test run without the user's PGKEEP_* and libpq variables. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PGKEEP_|PG[A-Z])/.test(k) || k === 'PGKEEP_PG_BIN') env[k] = v;
  return { ...env, HOME: home, ...extra };
}

export function spawnCli(args: string[], opts: { home: string; cwd?: string; env?: Record<string, string> }): CliProcess {
  const proc = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? opts.home,
    env: cleanEnv(opts.home, opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let done = false;
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<CliResult>((res) => {
    proc.on('error', (e) => {
      done = true;
      res({ code: -1, signal: null, stdout: out, stderr: `${err}\nspawn failed: ${e.message}` });
    });
    proc.on('close', (code, signal) => {
      done = true;
      res({ code, signal, stdout: out, stderr: err });
    });
  });
  return { proc, stdout: () => out, stderr: () => err, exit, exited: () => done };
}

/** Run the CLI to the end; a run longer than `timeoutMs` is killed and reported as a hang. */
export async function runCli(
  args: string[],
  opts: { home: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  const p = spawnCli(args, opts);
  const limit = opts.timeoutMs ?? 120_000;
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), limit);
  const r = await p.exit;
  clearTimeout(timer);
  if (r.signal === 'SIGKILL')
    throw new Error(`pgkeep ${args.join(' ')} did not finish within ${limit} ms (unbounded wait?)\n${r.stderr.slice(-2000)}`);
  return r;
}

/** Poll `pred` until it is true; throws with `what` after `timeoutMs`. */
export async function waitUntil(pred: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * SIGKILL the process as soon as `point` holds. Throws when the process ended before the point
 * was reached (the fault was not injected where the test meant it to be).
 */
export async function killAt(p: CliProcess, point: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<CliResult> {
  await waitUntil(
    async () => {
      if (p.exited()) {
        const r = await p.exit;
        throw new Error(`the process ended (exit ${r.code}) before ${what}\n${r.stdout.slice(-1500)}\n${r.stderr.slice(-1500)}`);
      }
      return point();
    },
    what,
    timeoutMs,
    5,
  );
  p.proc.kill('SIGKILL');
  return p.exit;
}

/**
 * SIGKILL the process the moment a file `match`ing appears or goes in `dir` or one of its
 * subdirectories existing now (inotify, not polling: the kill lands within the few milliseconds
 * an object takes to be written, linked or deleted). One watch per directory, set up before the
 * process starts (Node's recursive watch sets itself up asynchronously and can miss the first
 * events). `match` gets the path relative to `dir`. Resolves with how the process ended (it may
 * have finished first: the caller judges).
 */
export async function killOnChange(
  start: () => CliProcess,
  dir: string,
  match: (name: string) => boolean,
): Promise<{ p: CliProcess; r: CliResult }> {
  let p: CliProcess | undefined;
  const watchers = directories(dir).map((rel) =>
    watch(join(dir, rel), (_event, name) => {
      if (p && name && match(rel ? `${rel}/${name}` : String(name))) p.proc.kill('SIGKILL');
    }),
  );
  try {
    p = start();
    return { p, r: await p.exit };
  } finally {
    for (const w of watchers) w.close();
  }
}

/** `dir` ('') and every directory below it, relative to it. */
function directories(dir: string, rel = ''): string[] {
  const out = [rel];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...directories(dir, rel ? `${rel}/${e.name}` : e.name));
  }
  return out;
}

/**
 * Hold the process still (SIGSTOP) while a fault is injected around it, so that the fault lands
 * at the point observed rather than wherever the process has got to by then; `thaw` resumes it.
 */
export function freeze(p: CliProcess, what: string): void {
  if (p.exited()) throw new Error(`the process ended before ${what}: ${p.stdout().slice(-1500)}${p.stderr().slice(-1500)}`);
  p.proc.kill('SIGSTOP');
}

export function thaw(p: CliProcess): void {
  p.proc.kill('SIGCONT');
}

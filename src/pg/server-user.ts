/**
 * Running PostgreSQL server programs as the right OS user. PostgreSQL refuses to run as root;
 * when this process is root, initdb/pg_ctl/postgres/pg_controldata run as the `postgres` OS user
 * (override with PGKEEP_PG_OS_USER) and the directories they use are given to that user.
 */
import { spawn, spawnSync, type SpawnOptions } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { PgkeepError } from '../errors.js';
import { passwdEntries, type PasswdEntry } from '../os-names.js';

/** An OS user as /etc/passwd lists it (read by the one passwd reader, src/os-names.ts). */
export type OsUser = PasswdEntry;

/** Look a user up in /etc/passwd (no native getpwnam in Node); the first well-formed line of that name. */
export function lookupOsUser(name: string, passwd = '/etc/passwd'): OsUser | undefined {
  return passwdEntries(passwd).find((u) => u.name === name);
}

let cached: OsUser | null | undefined;

/**
 * The user server programs must run as: undefined when this process is not root (run as
 * ourselves), the `postgres` user (or PGKEEP_PG_OS_USER) when it is.
 */
export function serverOsUser(): OsUser | undefined {
  if (cached !== undefined) return cached ?? undefined;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    cached = null;
    return undefined;
  }
  const name = process.env.PGKEEP_PG_OS_USER || 'postgres';
  const user = lookupOsUser(name);
  if (!user || user.uid === 0) {
    throw new PgkeepError('UNSUPPORTED', `running as root, and there is no unprivileged OS user "${name}" to run PostgreSQL as`, {
      hint:
        `PostgreSQL refuses to run as root: create the user (useradd --system --home /var/lib/postgresql ${name}), ` +
        'set PGKEEP_PG_OS_USER to another unprivileged user, or run pgkeep as a normal user',
    });
  }
  cached = user;
  return user;
}

/** Environment for server programs: ours without PG* variables that would redirect them. */
function serverEnv(user: OsUser | undefined, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^PG/.test(k)) continue;
    env[k] = v;
  }
  if (user) {
    env.HOME = user.home;
    env.USER = user.name;
    env.LOGNAME = user.name;
  }
  return { ...env, ...extra };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Run as the server OS user (when root). Default true. */
  asServerUser?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  signal?: AbortSignal;
}

function spawnOptions(opts: RunOptions): SpawnOptions & { env: NodeJS.ProcessEnv } {
  const user = opts.asServerUser === false ? undefined : serverOsUser();
  return {
    cwd: opts.cwd,
    env: opts.asServerUser === false ? { ...process.env, ...opts.env } : serverEnv(user, opts.env),
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  };
}

/** Run a program to completion, collecting its output. Never throws for a non-zero exit. */
export function runProgram(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { ...spawnOptions(opts), stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(new PgkeepError('TOOL_MISSING', `${file} not found`, { cause: e }));
      } else if (e.name === 'AbortError') {
        reject(new PgkeepError('INTERRUPTED', `${file} was interrupted`, { cause: e }));
      } else reject(e);
    });
    child.on('close', (code, sig) => resolvePromise({ code: code ?? (sig ? 128 : 1), stdout, stderr }));
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}

/** Synchronous variant for the exit-time safety net. */
export function runProgramSync(file: string, args: string[], opts: RunOptions = {}): RunResult {
  const r = spawnSync(file, args, { ...spawnOptions(opts), encoding: 'utf8', timeout: 30000 });
  return { code: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Give a directory tree to the server user (no-op when not root). Symlinks are not followed. */
export function chownTreeToServerUser(path: string): void {
  const user = serverOsUser();
  if (!user) return;
  const walk = (p: string) => {
    const st = lstatSync(p);
    lchownSync(p, user.uid, user.gid);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
}

/**
 * Make sure the server user can reach `path`: every ancestor must be searchable by it. Ancestors
 * under the temp directory that are not get o+x (mkdtemp makes them 0700); elsewhere this throws
 * with advice instead of changing permissions.
 */
export function ensureTraversable(path: string): void {
  const user = serverOsUser();
  if (!user) return;
  const tmp = resolve(tmpdir());
  let dir = dirname(resolve(path));
  for (;;) {
    const st = statSync(dir);
    const ok = st.uid === user.uid ? (st.mode & 0o100) !== 0 : st.gid === user.gid ? (st.mode & 0o010) !== 0 : (st.mode & 0o001) !== 0;
    if (!ok) {
      if (dir === tmp || dir.startsWith(tmp + '/')) chmodSync(dir, st.mode | 0o001);
      else {
        throw new PgkeepError('UNSUPPORTED', `the OS user "${user.name}" cannot reach ${path}: ${dir} is not searchable by it`, {
          hint: `chmod o+x ${dir}, or use a directory under ${tmp}`,
        });
      }
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
}

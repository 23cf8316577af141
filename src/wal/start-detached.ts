/** Start a background pgkeep (prefetcher, pusher): node with `args`, detached, its output appended to `dir/logName`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fchownSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

/** Another OS user to run it as (root starting a server user's process): it owns the log. */
export interface DetachedUser {
  uid: number;
  gid: number;
  /** Its home directory (HOME, where configuration is searched). */
  home?: string;
  name?: string;
}

export function startDetached(args: string[], dir: string, logName: string, cwd: string, as?: DetachedUser): ChildProcess {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = openSync(join(dir, logName), 'a', 0o600);
  try {
    if (as) fchownSync(log, as.uid, as.gid);
    const env = as
      ? { ...process.env, ...(as.home ? { HOME: as.home } : {}), ...(as.name ? { USER: as.name, LOGNAME: as.name } : {}) }
      : process.env;
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', log, log],
      cwd,
      env,
      ...(as ? { uid: as.uid, gid: as.gid } : {}),
    });
    child.on('error', () => undefined); // it could not start: the work it would have done is done without it
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

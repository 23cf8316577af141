/** Start a background pgkeep (prefetcher, pusher): node with `args`, detached, its output appended to `dir/logName`. */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

export function startDetached(args: string[], dir: string, logName: string, cwd: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const log = openSync(join(dir, logName), 'a', 0o600);
  try {
    spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], cwd }).unref();
  } finally {
    closeSync(log);
  }
}

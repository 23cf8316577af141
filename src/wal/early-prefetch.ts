/**
 * The prefetcher `pgkeep restore` starts itself once the data directory is complete, so that the
 * spool already holds the backup's first segments, and the "not in the archive" answers for the
 * history files recovery probes at its start, when the server starts: without it, those first
 * calls of restore_command each start node (the prefetcher is otherwise started by the first
 * get). It is the very process a get would start (`pgkeep <the restore_command's global
 * arguments> wal prefetch N --spool-dir D ...`, one per spool under its pid file), with `--from`
 * the backup's first segment, run as the data directory's owner (the server's OS user, who runs
 * restore_command and recovery_end_command: they move its files and stop it) from the data
 * directory.
 */
import type { ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, realpathSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { passwdEntries } from '../os-names.js';
import { defaultSpoolRoot, spoolDir } from './spool.js';
import { SPOOL_MAX_BYTES } from './restore-command.js';
import { startDetached, type DetachedUser } from './start-detached.js';
import { READY_FILE } from './prefetch-files.js';
import { cleanSpoolRoot } from './spool-clean.js';

export interface EarlyPrefetch {
  dataDir: string;
  /** bin/pgkeep.js (run by this node). */
  script: string;
  /** pgkeep's global arguments exactly as restore_command holds them: the spool's .source must match. */
  globalArgs: string[];
  repoId: string;
  cluster: string;
  systemIdentifier: string;
  /** The first segment recovery asks for (the backup's). */
  first: string;
  segmentSize: number;
  count: number;
}

/** Start it: the spool directory, or why it was not started (recovery then starts one with its first get). */
export function startEarlyPrefetch(p: EarlyPrefetch): { spoolDir: string; child: ChildProcess } | { skipped: string } {
  let dataDir: string;
  let owner: { uid: number; gid: number };
  try {
    dataDir = realpathSync(p.dataDir); // the front compares the spool with its physical working directory
    owner = statSync(dataDir);
  } catch (e) {
    return { skipped: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  const me = process.getuid?.();
  let as: DetachedUser | undefined;
  if (me !== undefined && owner.uid !== me) {
    if (me !== 0) return { skipped: `the data directory belongs to uid ${owner.uid}` };
    const user = passwdEntries().find((u) => u.uid === owner.uid);
    as = { uid: owner.uid, gid: owner.gid, ...(user ? { home: user.home, name: user.name } : {}) };
  } else if (me === 0) {
    return { skipped: 'the data directory belongs to root, whom PostgreSQL does not run as' };
  }
  const root = defaultSpoolRoot(dataDir);
  const dir = spoolDir(root, p.repoId, p.cluster, p.systemIdentifier);
  const args = [
    p.script,
    ...p.globalArgs,
    'wal',
    'prefetch',
    String(p.count),
    '--spool-dir',
    dir,
    '--system-id',
    p.systemIdentifier,
    '--segment-size',
    String(p.segmentSize),
    '--max-bytes',
    String(SPOOL_MAX_BYTES),
    '--from',
    p.first,
  ];
  try {
    for (const d of [root, dir]) {
      mkdirSync(d, { recursive: true, mode: 0o700 });
      if (as) chownSync(d, as.uid, as.gid);
    }
    rmSync(join(dir, READY_FILE), { force: true }); // an earlier prefetcher's: wait for this one's
    return { spoolDir: dir, child: startDetached(args, dir, 'prefetch.log', dataDir, as) };
  } catch (e) {
    return { skipped: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

/**
 * Wait (at most `ms`) until the prefetcher `child` started in `spoolDir` has answered the history
 * probes recovery makes first (READY_FILE): then the server's first calls of restore_command are
 * served by the sh front, not by node. False when it was not ready in time or exited (it could
 * not read the repository, say): recovery is not harmed, a get through node answers those calls.
 */
export async function awaitEarlyPrefetch(spoolDir: string, child: ChildProcess, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (existsSync(join(spoolDir, READY_FILE))) return true;
    if (Date.now() >= deadline || child.exitCode !== null || child.signalCode !== null) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Stop the prefetcher `child` started in `spoolDir` (a restore that failed after starting it),
 * then remove the spools. By its process, not its pid file: it may not have written that yet.
 */
export async function stopEarlyPrefetch(spoolDir: string, child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.ref(); // its exit keeps this process waiting
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((r) => {
      child.once('exit', () => r());
      timer = setTimeout(r, 5_000);
    });
    child.kill('SIGKILL'); // it holds no lock and writes only in the spool removed next
    await gone;
    clearTimeout(timer);
    child.unref();
  }
  await cleanSpoolRoot(dirname(spoolDir)).catch(() => undefined);
}

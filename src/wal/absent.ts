/**
 * "Not in the archive as of T": the answers the prefetcher leaves in its spool for the names
 * recovery asks for that the archive lacks (the segment past the end of the archive, the next
 * timeline's history file, the parent's), so that the sh front (bin/pgkeep) can answer them
 * (exit 1) without starting node.
 *
 * The rule (docs/wal-archiving.md, "Not in the archive"): `.absent-<name>` is dated `T +
 * ABSENT_VALID_MS`, where T is the spool file system's time just *before* the request that found
 * the name missing was sent. The front answers "absent" only while that date is still ahead of
 * the file system's time now (so never on a check older than ABSENT_VALID_MS) and the live
 * prefetcher that wrote it still holds the spool; the prefetcher checks each such name again every
 * RECHECK_MS while it runs, and removes the file as soon as a check finds the name. Anything else
 * goes to node, which reads the repository. So an "absent" from the front is the answer a
 * restore_command would have given at most ABSENT_VALID_MS earlier: a file archived since is
 * found by a later call (a standby keeps asking), never hidden for longer.
 */
import { constants } from 'node:fs';
import { open, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const ABSENT_PREFIX = '.absent-';
/** Written before each check and read back: the spool file system's time. */
const CLOCK_FILE = '.clock';
/** How long an "absent" answer may be given after the check that found it (sh compares mtimes). */
export const ABSENT_VALID_MS = 2_000;
/** How often the prefetcher checks each name it answers "absent" for again. */
export const RECHECK_MS = 500;

export function absentMarker(dir: string, name: string): string {
  return join(dir, `${ABSENT_PREFIX}${name}`);
}

/**
 * Ask the repository for `name` (`request` returns undefined when the archive lacks it) and
 * record the answer: missing, `.absent-<name>` dated by the spool file system's time just before
 * the request was sent (`.clock`, written then and read back), plus ABSENT_VALID_MS; found (or
 * the request failed), no `.absent-<name>` any more.
 */
export async function checkAndRecord<T>(dir: string, name: string, request: () => Promise<T | undefined>): Promise<T | undefined> {
  // No temporary files: PostgreSQL fsyncs every file under the data directory when recovery starts
  // (the spool in pg_wal included) and logs each one that vanished meanwhile.
  const clock = join(dir, CLOCK_FILE);
  await touch(clock);
  const asOf = (await stat(clock)).mtime;
  let got: T | undefined;
  try {
    got = await request();
  } catch (e) {
    await clearAbsent(dir, name);
    throw e;
  }
  if (got !== undefined) {
    await clearAbsent(dir, name);
    return got;
  }
  // Created (if new) dated now, which the front never takes for valid (its own "now" is later),
  // then dated the check + ABSENT_VALID_MS.
  const marker = absentMarker(dir, name);
  const until = new Date(asOf.getTime() + ABSENT_VALID_MS);
  if (!made.has(marker)) {
    await writeFile(marker, '', { mode: 0o600, flag: 'a' });
    made.add(marker);
  }
  await utimes(marker, until, until); // gone (the spool being removed): an error, nothing recreated
  return undefined;
}

/**
 * Files this process created and still has: later they are only re-dated, never created again,
 * so that a spool being removed (`rm -rf` of a data directory never started, while the
 * prefetcher waits for the server) gets no new file that would make its removal fail.
 */
const made = new Set<string>();

/** Date `path` now by the file system's clock: created the first time, then truncated (not created again). */
async function touch(path: string): Promise<void> {
  if (made.has(path)) {
    const h = await open(path, constants.O_WRONLY | constants.O_TRUNC);
    await h.close();
    return;
  }
  await writeFile(path, '', { mode: 0o600 });
  made.add(path);
}

/** `name` was found, or is no longer watched: no "absent" answer for it any more. */
export async function clearAbsent(dir: string, name: string): Promise<void> {
  made.delete(absentMarker(dir, name));
  await rm(absentMarker(dir, name), { force: true });
}

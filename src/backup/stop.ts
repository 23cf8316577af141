/**
 * Step "stop" of a `local` backup: pg_backup_stop(wait_for_archive) — pg_stop_backup(false, wait)
 * before 15 — on the session that started it. It returns the stop LSN and the contents of
 * backup_label and tablespace_map, which the snapshot stores as files at the root of the data
 * directory: a restore writes them back and recovery starts from the backup's checkpoint.
 *
 * On a primary the server switches to a new WAL segment at the stop, so the segment holding the
 * stop position is complete (and flushed) when the function returns. With WAL archiving on and
 * `wait`, the server also waits until that segment is archived (not for --standalone: the WAL is
 * stored with the backup instead).
 */
import type pg from 'pg';
import { parseLsn } from '../pg/lsn.js';
import { ArchiveWatch, underArchiveWatch } from './archive-watch.js';
import type { SessionWatch } from '../pg/session-lost.js';
import { backupFunctionError } from './start.js';
import type { BackupRun, StopInfo } from './types.js';

export async function stopLocalBackup(
  client: pg.Client,
  major: number,
  waitForArchive: boolean,
  session?: SessionWatch,
): Promise<StopInfo> {
  const fn = major >= 15 ? 'pg_backup_stop' : 'pg_stop_backup';
  const sql =
    major >= 15
      ? 'SELECT lsn::text AS lsn, labelfile, spcmapfile FROM pg_backup_stop($1)'
      : 'SELECT lsn::text AS lsn, labelfile, spcmapfile FROM pg_stop_backup(false, $1)';
  let row: { lsn: string; labelfile: string; spcmapfile: string | null };
  try {
    row = (await client.query(sql, [waitForArchive])).rows[0];
  } catch (e) {
    throw backupFunctionError(e, fn, session);
  }
  const label = parseBackupLabel(row.labelfile);
  return {
    stopLsn: parseLsn(row.lsn),
    timeline: label.timeline ?? 1,
    stopTime: new Date(),
    backupLabel: row.labelfile,
    ...(row.spcmapfile ? { tablespaceMap: row.spcmapfile } : {}),
  };
}

/**
 * pg_backup_stop that waits for archiving, bounded and watched (archive-watch.ts). Without a
 * second session to watch from, the backup stops without waiting and says so.
 */
export async function stopLocalBackupWatched(client: pg.Client, major: number, run: BackupRun, session?: SessionWatch): Promise<StopInfo> {
  const o = run.options;
  const watch = await ArchiveWatch.start({
    settings: o.cluster,
    waiterPid: (client as unknown as { processID: number }).processID,
    startClock: 'now',
    timeoutMs: o.archiveTimeoutMs,
    signal: o.signal,
  });
  if (!(watch instanceof ArchiveWatch)) {
    run.warn(
      `cannot watch the WAL archiver (${watch.unavailable}): the backup did not wait for its last WAL segment ` +
        'to be archived; "pgkeep wal check" shows when it is',
    );
    return stopLocalBackup(client, major, false, session);
  }
  return underArchiveWatch(watch, stopLocalBackup(client, major, true, session));
}

export interface BackupLabelFacts {
  startLsn?: bigint;
  startWalFile?: string;
  checkpointLsn?: bigint;
  timeline?: number;
  label?: string;
}

/** The facts of a backup_label file ("START WAL LOCATION: 0/2000028 (file 0000...)" ...). */
export function parseBackupLabel(text: string): BackupLabelFacts {
  const out: BackupLabelFacts = {};
  for (const line of text.split('\n')) {
    let m = /^START WAL LOCATION: (\S+) \(file ([0-9A-F]{24})\)/.exec(line);
    if (m) {
      out.startLsn = parseLsn(m[1]!);
      out.startWalFile = m[2]!;
    }
    m = /^CHECKPOINT LOCATION: (\S+)/.exec(line);
    if (m) out.checkpointLsn = parseLsn(m[1]!);
    m = /^START TIMELINE: (\d+)/.exec(line);
    if (m) out.timeline = Number(m[1]);
    m = /^LABEL: (.*)$/.exec(line);
    if (m) out.label = m[1]!;
  }
  return out;
}

/** Is WAL reaching the repository? pg_stat_archiver, the `.ready` backlog and its age. */
import type { MonitorSettings } from '../../config/monitor.js';
import type { ClusterFacts, HealthCheck } from '../types.js';
import { archiveLag } from './archive-lag.js';
import { age, result, serverUnknown } from './make.js';

const KEEP_WAL = 'PostgreSQL keeps every unarchived segment in pg_wal and retries on its own: do not delete files from pg_wal.';

export function archiveCheck(f: ClusterFacts, m: MonitorSettings): HealthCheck {
  const s = f.server;
  if (!s) return serverUnknown('archive', f.serverError ?? 'unknown error');
  if (s.inRecovery && s.archiveMode !== 'always') {
    return result('archive', 'OK', 'standby: its primary archives the WAL (archive_mode is not "always")');
  }
  if (s.archiveMode === 'off') {
    const streaming = s.slots.some((x) => x.type === 'physical' && x.active);
    if (streaming) return result('archive', 'OK', 'archive_mode is off; WAL leaves through an active replication slot (wal stream)');
    return result(
      'archive',
      'WARN',
      'archive_mode is off: no WAL reaches the repository, so no point-in-time recovery past the newest backup',
      "set archive_mode = on and archive_command = 'pgkeep wal push %p' (restart), or run pgkeep wal stream --slot",
    );
  }
  if (!s.archiveCommand.trim()) {
    return result(
      'archive',
      'CRITICAL',
      'archive_mode is on but archive_command is empty: WAL piles up in pg_wal and nothing is archived',
      "set archive_command = 'pgkeep wal push %p' and reload (SELECT pg_reload_conf())",
    );
  }
  const lag = archiveLag(f)!;
  const a = s.archiver;
  const waiting = lag.segments === null ? 'an unknown number of segments' : `${lag.segments} segment(s)`;
  if (a.lastFailedTime && (!a.lastArchivedTime || a.lastFailedTime > a.lastArchivedTime)) {
    return result(
      'archive',
      'CRITICAL',
      `archive stalled: archive_command failed on ${a.lastFailedWal} at ${a.lastFailedTime.toISOString()} ` +
        `(${a.failedCount} failure(s) since the statistics were reset), nothing archived since ` +
        `${a.lastArchivedTime ? `${a.lastArchivedTime.toISOString()} (${a.lastArchivedWal})` : 'the server started'}; ${waiting} wait`,
      `read archive_command's error in the server log, then run "pgkeep doctor --check-archive" as the server's OS user; ` +
        `common causes: the repository is not writable by that user, unreachable, or full. ${KEEP_WAL}`,
    );
  }
  const newFailures = f.previousFailedCount === undefined ? 0 : a.failedCount - f.previousFailedCount;
  if (newFailures > 0) {
    return result(
      'archive',
      'WARN',
      `archive_command failed ${newFailures} time(s) since the previous check ` +
        `(last on ${a.lastFailedWal} at ${a.lastFailedTime?.toISOString()}), then succeeded: archiving is unreliable`,
      `read archive_command's errors in the server log (a flaky network or storage, a timeout too short). ${KEEP_WAL}`,
    );
  }
  if (lag.segments !== null && lag.segments >= m.archiveBacklogCritical) {
    return result(
      'archive',
      'CRITICAL',
      `archive backlog: ${waiting} wait in pg_wal (critical from ${m.archiveBacklogCritical})`,
      `archiving is slower than the server writes WAL: check the repository's speed, or turn on async push ([archive]). ${KEEP_WAL}`,
    );
  }
  if (lag.segments !== null && lag.segments > 0 && lag.seconds !== null && lag.seconds * 1000 > m.archiveMaxAgeMs) {
    return result(
      'archive',
      'WARN',
      `archive stalled: ${waiting} wait and nothing was archived for ${age(lag.seconds * 1000)} (limit ${age(m.archiveMaxAgeMs)})`,
      `check that the archiver runs (ps for "archiver"), then read the server log for archive_command. ${KEEP_WAL}`,
    );
  }
  if (lag.segments !== null && lag.segments >= m.archiveBacklogWarn) {
    return result(
      'archive',
      'WARN',
      `archive backlog: ${waiting} wait in pg_wal (warning from ${m.archiveBacklogWarn})`,
      'archiving is behind; it catches up if the server writes less WAL than the repository takes. Watch it, or turn on async push',
    );
  }
  return result(
    'archive',
    'OK',
    `archiving: ${waiting} wait; last archived ${a.lastArchivedWal ?? 'none yet'}` +
      `${a.lastArchivedTime ? ` at ${a.lastArchivedTime.toISOString()}` : ''}`,
  );
}

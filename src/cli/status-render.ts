/** `pgkeep status` as text: one screen per cluster. */
import type { ClusterStatus } from '../monitor/index.js';
import { formatBytes, table } from './output.js';

const short = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

function nextJobs(s: ClusterStatus): string[] {
  const jobs = Object.entries(s.jobs);
  if (jobs.length === 0) return ['jobs:     none known (no agent state file)'];
  return [
    'jobs:',
    ...table(
      ['job', 'last run', 'result', 'next run'],
      jobs
        .sort(([, a], [, b]) => ((a.nextRun ?? '~') < (b.nextRun ?? '~') ? -1 : 1))
        .map(([name, j]) => [name, short(j.lastRun), j.result ?? '-', short(j.nextRun)]),
    )
      .split('\n')
      .map((l) => `  ${l}`),
  ];
}

export function renderStatus(s: ClusterStatus): string {
  const b = s.backups.newest;
  const a = s.archive;
  const w = s.window;
  const bad = s.checks.find((c) => c.state === s.state && c.state !== 'OK');
  const streams = Object.entries(s.streams).map(
    ([n, x]) =>
      `${n} ${x.state ?? ''}${x.lagBytes !== undefined ? ` ${formatBytes(x.lagBytes)} behind` : ''}${x.lagSeconds !== undefined ? ` (${x.lagSeconds}s)` : ''}`,
  );
  const lines = [
    // The first line is what Nagios shows: the state and the worst check's reason.
    `cluster ${s.cluster}: ${s.state}${bad ? ` - ${bad.check}: ${bad.reason}` : ''}`,
    `checked:  ${short(s.at)}`,
    `backups:  ${s.backups.count} snapshot(s), ${s.backups.physical} physical; newest ${b ? `${b.id} (${b.kind}, ${short(b.stopTime)}, ${formatBytes(b.size)})` : '-'}`,
    `window:   ${w.oldest ? `from ${short(w.oldest.time)} (${w.oldest.backup})` : 'nothing recoverable'}` +
      `${w.newest ? ` to ${w.newest.lsn} (${w.newest.segment}${w.newest.time ? `, archived ${short(w.newest.time)}` : ''})` : ''}`,
    `archive:  ${
      a
        ? `${a.segments ?? '?'} segment(s) waiting, lag ${a.seconds ?? '?'}s; last ${a.lastArchivedWal ?? '-'} at ${short(a.lastArchivedTime)}` +
          `${a.failedCount ? `; ${a.failedCount} failure(s), last ${a.lastFailedWal} at ${short(a.lastFailedTime)}` : ''}`
        : 'unknown (server unreachable)'
    }`,
    `pg_wal:   ${s.walFree ? `${formatBytes(s.walFree.freeBytes)} free of ${formatBytes(s.walFree.totalBytes)}` : 'unknown'}`,
    `streams:  ${streams.length ? streams.join('; ') : 'none supervised'}`,
    ...nextJobs(s),
    'checks:',
    ...s.checks.flatMap((c) => [
      `  ${c.state.padEnd(8)} ${c.check}: ${c.reason}`,
      ...(c.fix && c.state !== 'OK' ? [`           fix: ${c.fix}`] : []),
    ]),
  ];
  return lines.join('\n');
}

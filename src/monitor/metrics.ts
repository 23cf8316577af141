/**
 * Prometheus metrics (prom-client) of the monitored clusters, refreshed from each round's status:
 * backups per kind, archive lag, the recoverable window, pg_wal's free space, check states, and
 * the agent's jobs and streams. Times are Unix seconds; a value that is unknown is left out.
 */
import { Gauge, Registry } from 'prom-client';
import { CHECK_STATES, type ClusterStatus } from './types.js';

const seconds = (iso: string | null | undefined) => (iso ? Date.parse(iso) / 1000 : undefined);

export class MonitorMetrics {
  readonly registry = new Registry();
  private g = (name: string, help: string, labelNames: string[]) => new Gauge({ name, help, labelNames, registers: [this.registry] });

  private readonly backupTime = this.g('pgkeep_backup_last_time_seconds', 'End of the newest backup, per kind (physical, logical)', [
    'cluster',
    'kind',
  ]);
  private readonly backupSize = this.g('pgkeep_backup_last_size_bytes', 'Logical size of the newest backup, per kind', ['cluster', 'kind']);
  private readonly backupStored = this.g('pgkeep_backup_last_stored_bytes', 'Bytes the newest backup added to the repository, per kind', [
    'cluster',
    'kind',
  ]);
  private readonly backupDuration = this.g('pgkeep_backup_last_duration_seconds', 'Duration of the newest backup, per kind', [
    'cluster',
    'kind',
  ]);
  private readonly backupResult = this.g(
    'pgkeep_backup_last_success',
    'Last backup job of this kind succeeded (1) or failed (0); 1 without an agent when a backup exists',
    ['cluster', 'kind'],
  );
  private readonly backups = this.g('pgkeep_backups', 'Snapshots of the cluster in the repository', ['cluster']);
  private readonly lagSeconds = this.g(
    'pgkeep_archive_lag_seconds',
    'Seconds since the last successful archive while segments wait (0 when caught up)',
    ['cluster'],
  );
  private readonly lagSegments = this.g('pgkeep_archive_lag_segments', 'Completed WAL segments not archived yet', ['cluster']);
  private readonly archiveFailed = this.g('pgkeep_archive_failed_count', 'pg_stat_archiver.failed_count', ['cluster']);
  private readonly oldest = this.g(
    'pgkeep_recoverable_oldest_time_seconds',
    'Oldest moment recovery can reach (end of the oldest restorable backup)',
    ['cluster'],
  );
  private readonly newest = this.g(
    'pgkeep_recoverable_newest_time_seconds',
    'Newest moment recovery can reach (upper bound: when its last segment was archived)',
    ['cluster'],
  );
  private readonly walFree = this.g('pgkeep_wal_free_bytes', "Free bytes on pg_wal's file system", ['cluster']);
  private readonly walTotal = this.g('pgkeep_wal_size_bytes', "Size of pg_wal's file system", ['cluster']);
  private readonly checkState = this.g('pgkeep_check_state', 'Health check state: 0 OK, 1 WARN, 2 CRITICAL, 3 UNKNOWN', [
    'cluster',
    'check',
  ]);
  private readonly jobSuccess = this.g('pgkeep_job_last_success', "The agent job's last run succeeded (1) or not (0)", ['cluster', 'job']);
  private readonly jobLastRun = this.g('pgkeep_job_last_run_time_seconds', "Start of the agent job's last run", ['cluster', 'job']);
  private readonly jobNextRun = this.g('pgkeep_job_next_run_time_seconds', 'Next scheduled run of the agent job', ['cluster', 'job']);
  private readonly streamLag = this.g('pgkeep_stream_lag_bytes', 'Bytes the supervised wal stream is behind the server', [
    'cluster',
    'stream',
  ]);
  /** The series set for each cluster by its last update: a series not set again is removed, never left stale. */
  private readonly seen = new Map<string, Map<string, [Gauge, Record<string, string>]>>();

  /** Refresh every metric of one cluster from its status. */
  update(s: ClusterStatus): void {
    const c = { cluster: s.cluster };
    const set = new Map<string, [Gauge, Record<string, string>]>();
    const put = (g: Gauge, labels: Record<string, string>, v: number | null | undefined) => {
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      g.set(labels, v);
      set.set(JSON.stringify([(g as unknown as { name: string }).name, labels]), [g, labels]);
    };
    for (const kind of ['physical', 'logical']) {
      const b = s.backups.newestByKind[kind];
      const l = { ...c, kind };
      put(this.backupTime, l, seconds(b?.stopTime));
      put(this.backupSize, l, b?.size);
      put(this.backupStored, l, b?.storedBytes);
      put(this.backupDuration, l, b ? (Date.parse(b.stopTime) - Date.parse(b.startTime)) / 1000 : undefined);
      const job = Object.values(s.jobs)
        .filter((j) => j.kind === (kind === 'physical' ? 'backup' : 'dump') && j.result)
        .sort((x, y) => ((x.lastRun ?? '') < (y.lastRun ?? '') ? 1 : -1))[0];
      put(this.backupResult, l, job ? Number(job.result === 'ok') : b ? 1 : undefined);
    }
    put(this.backups, c, s.backups.count);
    put(this.lagSeconds, c, s.archive?.seconds);
    put(this.lagSegments, c, s.archive?.segments);
    put(this.archiveFailed, c, s.archive?.failedCount);
    put(this.oldest, c, seconds(s.window.oldest?.time));
    put(this.newest, c, seconds(s.window.newest?.time));
    put(this.walFree, c, s.walFree?.freeBytes);
    put(this.walTotal, c, s.walFree?.totalBytes);
    for (const ch of s.checks) put(this.checkState, { ...c, check: ch.check }, CHECK_STATES.indexOf(ch.state));
    for (const [job, j] of Object.entries(s.jobs)) {
      put(this.jobSuccess, { ...c, job }, j.result === undefined || j.result === 'running' ? undefined : Number(j.result === 'ok'));
      put(this.jobLastRun, { ...c, job }, seconds(j.lastRun));
      put(this.jobNextRun, { ...c, job }, seconds(j.nextRun));
    }
    for (const [stream, st] of Object.entries(s.streams)) put(this.streamLag, { ...c, stream }, st.lagBytes);
    for (const [key, [g, labels]] of this.seen.get(s.cluster) ?? []) if (!set.has(key)) g.remove(labels);
    this.seen.set(s.cluster, set);
  }

  /** Remove every series of a cluster (no longer monitored). */
  forget(cluster: string): void {
    for (const [g, labels] of this.seen.get(cluster)?.values() ?? []) g.remove(labels);
    this.seen.delete(cluster);
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The metrics the monitor loop updates unless given its own (the agent serves these). */
export const defaultMetrics = new MonitorMetrics();

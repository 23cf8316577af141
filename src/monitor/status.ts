/**
 * The status of a cluster: backups, the recoverable window, archive and stream lag, the health
 * checks, and the agent's next jobs. `pgkeep status` shows it; the metrics export it.
 */
import type { PgkeepConfig } from '../config/types.js';
import type { BackupSummary } from '../backup/index.js';
import { archiveLag, runChecks, worst } from './checks/index.js';
import { gatherClusterFacts, type GatherOptions } from './facts.js';
import type { ClusterFacts, ClusterStatus, HealthCheck } from './types.js';

/** The clusters to look at: the one asked for, else every [cluster.NAME] (else the selected one). */
export function monitoredClusters(config: PgkeepConfig, only?: string): string[] {
  if (only) return [only];
  const named = Object.keys(config.clusters);
  return named.length ? named.sort() : [config.clusterName];
}

function window(f: ClusterFacts): ClusterStatus['window'] {
  // A backup with a gap after it still recovers up to the segment before the gap ('gap' has its `to`).
  const good = (f.walCheck?.backups ?? []).filter((b) => b.status === 'ok' || b.status === 'self-contained' || b.status === 'gap');
  if (good.length === 0) return { oldest: null, newest: null };
  const oldest = good.reduce((a, b) => (a.stopTime < b.stopTime ? a : b));
  const reach = good.filter((b) => b.to).sort((a, b) => (a.stopTime < b.stopTime ? 1 : -1))[0];
  const archiver = f.server?.archiver;
  const newest = reach
    ? {
        lsn: reach.to!,
        segment: reach.lastSegment ?? reach.walEnd,
        // The server archived that very segment at this time: the window's end is at or before it.
        time:
          archiver?.lastArchivedWal === reach.lastSegment && archiver?.lastArchivedTime ? archiver.lastArchivedTime.toISOString() : null,
      }
    : { lsn: oldest.stopLsn, segment: oldest.walEnd, time: oldest.stopTime };
  return { oldest: { time: oldest.stopTime, lsn: oldest.from, backup: oldest.id }, newest };
}

export function buildStatus(f: ClusterFacts, checks: HealthCheck[]): ClusterStatus {
  const backups = f.backups ?? [];
  const newestByKind: Record<string, BackupSummary> = {};
  for (const b of backups) if (!newestByKind[b.kind] || newestByKind[b.kind]!.stopTime < b.stopTime) newestByKind[b.kind] = b;
  const walFree = f.walSpace ?? null;
  const streams = Object.fromEntries(
    Object.entries(f.agent?.streams ?? {})
      .filter(([, s]) => !s.cluster || s.cluster === f.cluster)
      .map(([name, s]) => [name, { lagBytes: s.lagBytes, lagSeconds: s.lagSeconds, state: s.state }]),
  );
  // The agent's jobs of this cluster, by job name (the state keys them "<cluster>/<job>").
  const jobs = Object.fromEntries(
    Object.entries(f.agent?.jobs ?? {})
      .filter(([, j]) => !j.cluster || j.cluster === f.cluster)
      .map(([k, j]) => [k.startsWith(`${f.cluster}/`) ? k.slice(f.cluster.length + 1) : k, j]),
  );
  return {
    cluster: f.cluster,
    at: f.at.toISOString(),
    state: worst(checks.map((c) => c.state)),
    backups: {
      count: backups.length,
      physical: backups.filter((b) => b.kind === 'physical').length,
      newest: backups.reduce<BackupSummary | null>((a, b) => (!a || a.stopTime < b.stopTime ? b : a), null),
      newestByKind,
    },
    window: window(f),
    archive: archiveLag(f),
    walFree,
    streams,
    jobs,
    checks,
  };
}

/** One round for one cluster: gather, check, build its status. */
export async function clusterStatus(config: PgkeepConfig, cluster: string, opts: GatherOptions = {}): Promise<ClusterStatus> {
  const facts = await gatherClusterFacts(config, cluster, opts);
  return buildStatus(facts, runChecks(facts, config.monitor));
}

/**
 * One round of what the dashboard shows: per cluster the monitor's facts and status (the same
 * checks `pgkeep status` runs), the recoverable window placed on a time axis, the drill records
 * and the schedule; for the repository, `repo info` (size, deduplication). Only the repository
 * API is used, so a repository on S3 works as one in a directory. A part that fails is shown
 * with its reason, never thrown: the page always renders.
 */
import type { PgkeepConfig } from '../config/index.js';
import { buildStatus, gatherClusterFacts, monitoredClusters, runChecks } from '../monitor/index.js';
import { openRepository, repositoryInfo, type Repository } from '../repo/index.js';
import { passphraseGetter } from '../repo/passphrase.js';
import { readDrillRecords } from '../holdings/index.js';
import { listSegmentTimes, type SegmentTime } from './wal-times.js';
import { timelineModel } from './timeline-model.js';
import { scheduleOf } from './schedule.js';
import type { ClusterView, DashboardData } from './types.js';

export interface GatherDashboardOptions {
  /** Only this cluster (else every configured one). */
  cluster?: string;
  /** Bound of each part (servers, repository); default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface RepoParts {
  error?: string;
  info?: DashboardData['repository']['info'];
  drills: Map<string, ClusterView['drills']>;
  segments: Map<string, SegmentTime[]>;
}

export async function gatherDashboard(config: PgkeepConfig, opts: GatherDashboardOptions = {}): Promise<DashboardData> {
  const now = new Date();
  const clusters = monitoredClusters(config, opts.cluster);
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const [repoParts, ...facts] = await Promise.all([
    repositoryParts(config, clusters, timeoutMs, opts.signal),
    ...clusters.map((c) => gatherClusterFacts(config, c, { timeoutMs, signal: opts.signal })),
  ]);
  const views = facts.map((f): ClusterView => {
    const status = buildStatus(f, runChecks(f, config.monitor));
    const backups = f.backups ?? [];
    const segments = repoParts.segments.get(f.cluster) ?? [];
    const view: ClusterView = {
      cluster: f.cluster,
      status,
      backups,
      ...(f.walCheck ? { walCheck: f.walCheck } : {}),
      ...(f.repoError ? { repoError: f.repoError } : {}),
      ...(f.serverError ? { serverError: f.serverError } : {}),
      timeline: timelineModel(status, backups, f.walCheck, segments, now.getTime()),
      drills: repoParts.drills.get(f.cluster) ?? { records: [], damaged: [], error: repoParts.error ?? 'not read' },
      schedule: [],
    };
    try {
      view.schedule = scheduleOf(config, status, now);
    } catch (e) {
      view.scheduleError = message(e);
    }
    return view;
  });
  return {
    generatedAt: now.toISOString(),
    repository: {
      location: config.repo.path ?? '(no repository configured)',
      ...(repoParts.info ? { info: repoParts.info } : {}),
      ...(repoParts.error ? { error: repoParts.error } : {}),
    },
    clusters: views,
  };
}

/** The repository's info, and per cluster its drill records and the archive times of its segments, within the bound. */
async function repositoryParts(config: PgkeepConfig, clusters: string[], timeoutMs: number, signal?: AbortSignal): Promise<RepoParts> {
  const parts: RepoParts = { drills: new Map(), segments: new Map() };
  const bound = AbortSignal.timeout(timeoutMs);
  const all = signal ? AbortSignal.any([signal, bound]) : bound;
  let repo: (Repository & { closeAll(): Promise<void> }) | undefined;
  const work = (async () => {
    repo = await openRepository({ ...config.repo, signal: all }, { getPassphrase: passphraseGetter(config.passphrase) });
    const r = repo;
    for (const c of clusters) {
      parts.segments.set(c, await listSegmentTimes(r, c));
      try {
        parts.drills.set(c, await readDrillRecords(r, c));
      } catch (e) {
        parts.drills.set(c, { records: [], damaged: [], error: message(e) });
      }
    }
    parts.info = await repositoryInfo(r);
  })();
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        const fail = () => reject(new Error(`the repository did not answer within ${Math.round(timeoutMs / 1000)} s`));
        if (all.aborted) fail();
        else all.addEventListener('abort', fail, { once: true });
      }),
    ]);
  } catch (e) {
    parts.error = message(e);
  } finally {
    work.catch(() => undefined).finally(() => void repo?.closeAll().catch(() => undefined));
  }
  return parts;
}

import type { Repository, SnapshotManifest } from '../repo/index.js';
import { garbageCollect } from '../repo/index.js';
import { acquireLock } from '../repo/locks.js';
import { collectRefs } from '../repo/refs.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { readClusterIdentity } from '../holdings/cluster-identity.js';
import { listArchive, type ArchivedFile } from '../holdings/wal-listing.js';
import { backupFirstSegment } from '../holdings/physical-meta.js';
import { readPhysicalMeta } from '../holdings/read-physical-meta.js';
import { applyPolicy, hasPolicy, walIsExpired, type PolicyDecision, type RetentionPolicy } from './policy.js';
import { existingSnapshotId, listPins, pinSnapshot } from './pins.js';
import { cleanUpAfter, releaseAfterSuccess } from '../cleanup.js';

export interface ExpireOptions {
  cluster: string;
  policy: RetentionPolicy;
  dryRun?: boolean;
  /** Pin these backups (forever) before deciding. */
  keep?: string[];
  now?: Date;
  signal?: AbortSignal;
  onStep?: (message: string) => void;
}

export interface WalExpiry {
  systemIdentifier: string;
  /** First segment still needed (everything positioned before it goes); empty when all of this system's WAL goes. */
  keepFrom: string;
  files: number;
  storedBytes: number;
  first?: string;
  last?: string;
}

export interface ExpireReport {
  cluster: string;
  dryRun: boolean;
  policy: RetentionPolicy;
  policyConfigured: boolean;
  backups: PolicyDecision[];
  /** Ids of the backups expired (manifests deleted, or to delete in a dry run). */
  expired: string[];
  pinned: string[];
  wal: WalExpiry[];
  walFiles: number;
  walBytes: number;
  /** Logical dumps of the cluster: not subject to this policy. */
  logicalDumps: number;
  /** Snapshots whose manifest is damaged: left alone, and while there is one no WAL is deleted. */
  damagedManifests: { id: string; message: string }[];
  /** What went wrong once the work was done (the lock could not be released). */
  warnings: string[];
  /** What `pgkeep repo gc` would then free. */
  gc: { bytes: number; exact: boolean; note: string };
}

export async function expire(repo: Repository, opts: ExpireOptions): Promise<ExpireReport> {
  const step = opts.onStep ?? (() => undefined);
  const lock = opts.dryRun ? undefined : await acquireLock(repo.driver, { kind: 'shared', purpose: 'expire', cluster: opts.cluster });
  let report: ExpireReport;
  try {
    const pinned = await pinRequested(repo, opts);
    step('reading manifests');
    const { manifests, damaged } = await repo.readSnapshots(opts.cluster);
    const physical = manifests.filter((m) => m.kind === 'physical');
    const pins = new Set([...(await listPins(repo, opts.cluster)).map((p) => p.id), ...pinned]);
    const decisions = applyPolicy(
      physical.map((m) => ({ id: m.id, stopTime: meta(m).stopTime || m.stopTime, pinned: pins.has(m.id) })),
      opts.policy,
      opts.now ?? new Date(),
    );
    const expiredIds = new Set(decisions.filter((d) => !d.keep).map((d) => d.id));
    const kept = physical.filter((m) => !expiredIds.has(m.id));

    step('listing the WAL archive');
    const walPlan = damaged.length ? [] : await planWal(repo, opts.cluster, kept, physical);
    report = {
      cluster: opts.cluster,
      dryRun: Boolean(opts.dryRun),
      policy: opts.policy,
      policyConfigured: hasPolicy(opts.policy),
      backups: decisions,
      expired: [...expiredIds],
      pinned,
      wal: walPlan.map((p) => p.summary),
      walFiles: walPlan.reduce((n, p) => n + p.summary.files, 0),
      walBytes: walPlan.reduce((n, p) => n + p.summary.storedBytes, 0),
      logicalDumps: manifests.length - physical.length,
      gc: { bytes: 0, exact: false, note: '' },
      warnings: [],
      damagedManifests: damaged.map((d) => ({ id: d.id, message: d.error.message })),
    };

    if (opts.dryRun) {
      step('estimating what gc would free');
      report.gc = await exclusiveBytes(repo, opts.cluster, expiredIds, opts.signal);
      return report;
    }
    for (const id of report.expired) {
      opts.signal?.throwIfAborted();
      step(`deleting backup ${id}`);
      await repo.deleteSnapshot(opts.cluster, id);
    }
    // WAL after the manifests: a crash in between leaves only WAL nobody needs, never a backup without its WAL.
    for (const p of walPlan) {
      step(`deleting ${p.summary.files} WAL file(s) of system ${p.summary.systemIdentifier}`);
      for (const f of p.files) {
        opts.signal?.throwIfAborted();
        await repo.driver.delete(f.key);
      }
    }
  } catch (e) {
    await cleanUpAfter(e, 'releasing the repository lock', async () => lock?.release()); // a failed release never hides e
    throw e;
  }
  // The backups and WAL are gone: a lock left behind is a warning, not a failed expire.
  if (lock)
    await releaseAfterSuccess(
      `releasing the repository lock ${lock.id}`,
      () => lock.release(),
      (m) => report.warnings.push(m),
    );
  // After releasing our shared lock: gc never touches packs newer than a held shared lock.
  if (report.damagedManifests.length) {
    report.gc = { bytes: 0, exact: false, note: 'not estimated: gc refuses to run while a snapshot manifest is damaged' };
  } else if (report.expired.length) {
    step('estimating what gc will free');
    const gc = await garbageCollect(repo, { dryRun: true, signal: opts.signal });
    report.gc = {
      bytes: gc.bytesFreed,
      exact: true,
      note: `"pgkeep repo gc" will free about this much (${gc.deleted.length} pack(s) to delete, ${gc.repacked.length} to repack)`,
    };
  } else report.gc = { bytes: 0, exact: true, note: 'no backup was expired, so gc has nothing new to free' };
  return report;
}

function meta(m: SnapshotManifest): PhysicalBackupMeta {
  return readPhysicalMeta(m);
}

/** The ids --keep names (each an id, the start of one or latest), all checked before any is pinned. */
async function pinRequested(repo: Repository, opts: ExpireOptions): Promise<string[]> {
  const ids: string[] = [];
  for (const ref of opts.keep ?? []) ids.push(await existingSnapshotId(repo, opts.cluster, ref, `--keep ${ref}`));
  if (!opts.dryRun) for (const id of ids) await pinSnapshot(repo, opts.cluster, id, 'pinned by expire --keep');
  return ids;
}

interface WalPlan {
  summary: WalExpiry;
  files: ArchivedFile[];
}

/**
 * Per system identifier: WAL before the earliest first segment of its kept backups goes. A system
 * with no kept backup loses all its WAL when it had backups (all expired) or is not the cluster's
 * current system; the current system without any backup keeps everything (archiving may have
 * started before the first backup). History files always stay.
 */
async function planWal(repo: Repository, cluster: string, kept: SnapshotManifest[], all: SnapshotManifest[]): Promise<WalPlan[]> {
  const systems = await listArchive(repo, cluster);
  const current = (await readClusterIdentity(repo, cluster))?.systemIdentifier;
  const plans: WalPlan[] = [];
  for (const [sysId, system] of systems) {
    const own = kept.filter((m) => meta(m).systemIdentifier === sysId);
    let keepFrom: string;
    if (own.length) {
      keepFrom = own.map((m) => backupFirstSegment(meta(m))).reduce((a, b) => (a.slice(8) <= b.slice(8) ? a : b));
    } else {
      const hadBackups = all.some((m) => meta(m).systemIdentifier === sysId);
      if (!hadBackups && (current === undefined || current === sysId)) continue;
      keepFrom = '';
    }
    const files = system.files.filter((f) => (keepFrom === '' ? true : walIsExpired(f.file.name, keepFrom)));
    if (!files.length) continue;
    plans.push({
      summary: {
        systemIdentifier: sysId,
        keepFrom,
        files: files.length,
        storedBytes: files.reduce((n, f) => n + f.size, 0),
        first: files[0]!.file.name,
        last: files[files.length - 1]!.file.name,
      },
      files,
    });
  }
  return plans;
}

/** Dry run: bytes of blobs that only the expired backups use (what gc frees once it has repacked). */
async function exclusiveBytes(repo: Repository, cluster: string, expired: Set<string>, signal?: AbortSignal): Promise<ExpireReport['gc']> {
  if (!expired.size) return { bytes: 0, exact: true, note: 'no backup would be expired' };
  const refs = await collectRefs(repo, false, { signal });
  let bytes = 0;
  try {
    const users = new Set(refs.snapshots.flatMap((s, i) => (s.cluster === cluster && expired.has(s.id) ? [i] : [])));
    for await (const b of refs.blobs()) if (b.users.every((u) => users.has(u))) bytes += b.length;
  } finally {
    await refs.close();
  }
  return {
    bytes,
    exact: false,
    note: 'data only these backups use; "pgkeep repo gc" frees it as whole packs are deleted or repacked (repo gc --dry-run after expire gives the exact figure)',
  };
}

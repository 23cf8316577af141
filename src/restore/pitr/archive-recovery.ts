/**
 * Which restores go through the point-in-time planner: every one that recovers from the WAL
 * (archive or the snapshot's own), so that each gets the same backup choice, timeline and gap
 * checks, and ends promoted on a new timeline.
 *
 * - a PITR request (a target, or --target-timeline): planned as asked;
 * - no request: planned as "the latest point" (no target, timeline latest — what PostgreSQL does
 *   by default): the newest backup on the latest timeline's history (an id that is not is
 *   refused), recovered to the end of what the archive holds, and refused when a known gap
 *   would stop it short (plan.ts). Then, by the backup:
 *   - a hot backup without --standalone needs the archive: archive recovery;
 *   - a cold or standalone backup whose cluster archived WAL at or after the backup's end:
 *     archive recovery too, through that WAL — a restore "to the latest point" must not stop at
 *     the backup's own end when the repository holds more;
 *   - a cold backup with nothing archived after it: no recovery at all (it was shut down
 *     cleanly and simply starts, on its own timeline);
 *   - a standalone backup with nothing archived after it: archive recovery all the same, so it
 *     ends on a new timeline (crash recovery would stay on the old one, and its archiver would
 *     collide with the old timeline's segments); through pgkeep's restore_command when the
 *     cluster has anything in the archive (PostgreSQL then sees its timeline history and picks an
 *     unused timeline), else with `restore_command = false`: its own pg_wal/ only, needing no
 *     access to the repository, as a standalone backup promises;
 * - the caller runs recovery itself (its own restore_command or recovery_target* settings, as
 *   restore-table's sandbox after its own planning, or tests fetching WAL from elsewhere): no plan.
 */
import { resolveSnapshot } from '../../holdings/physical-snapshot.js';
import type { PhysicalBackupMeta } from '../../holdings/physical-meta.js';
import type { Repository } from '../../repo/index.js';
import { listArchive } from '../../holdings/wal-listing.js';
import type { RecoveryRequest } from '../recovery-config.js';
import { planPitr } from './plan.js';
import type { PitrPlan, PitrRequest } from './types.js';
import { archiveReachesPastBackup } from './wal-used.js';

export interface ArchiveRecoveryInput {
  repo: Repository;
  cluster: string;
  /** Snapshot id, "latest" or undefined (latest). */
  id?: string;
  pitr?: PitrRequest;
  recovery?: RecoveryRequest;
  signal?: AbortSignal;
}

/** The request a plain restore of a backup that needs the archive is planned with. */
export const LATEST_POINT: PitrRequest = { action: 'promote', timeline: 'latest', exclusive: false };

/** restore_command of a standalone backup whose cluster has nothing in the archive: fetch nothing, replay pg_wal/. */
export const OWN_WAL_ONLY = 'false';

/** Recovery settings that mean the caller has planned recovery on its own. */
function callerRunsRecovery(r: RecoveryRequest | undefined): boolean {
  return Object.keys(r?.settings ?? {}).some((k) => /^(restore_command|recovery_target(_\w+)?)$/i.test(k));
}

/** The PITR plan for this restore, or undefined when it does not recover through the planner. */
export async function planArchiveRecovery(o: ArchiveRecoveryInput): Promise<PitrPlan | undefined> {
  if (o.pitr) return planPitr({ repo: o.repo, cluster: o.cluster, id: o.id, request: o.pitr, signal: o.signal });
  if (callerRunsRecovery(o.recovery)) return undefined;
  const plan = await planPitr({ repo: o.repo, cluster: o.cluster, id: o.id, request: LATEST_POINT, plain: true, signal: o.signal });
  const { meta } = await resolveSnapshot(o.repo, o.cluster, plan.snapshotId);
  if (o.recovery?.fromArchive || needsArchive(meta) || archiveReachesPastBackup(plan.wal, meta)) return plan;
  // Unplanned, the restore takes the id given or the newest backup: no recovery only when that is this one.
  if (meta.method === 'cold')
    return (await resolveSnapshot(o.repo, o.cluster, o.id ?? 'latest')).snapshot.id === plan.snapshotId ? undefined : plan;
  if (await clusterArchived(o.repo, o.cluster, meta.systemIdentifier)) return plan;
  return {
    ...plan,
    settings: { ...plan.settings, restore_command: OWN_WAL_ONLY },
    wal: { ...plan.wal, ownWalOnly: true },
  };
}

/** A hot backup without --standalone: its WAL is only in the archive. */
function needsArchive(meta: PhysicalBackupMeta): boolean {
  return meta.method !== 'cold' && !meta.standalone;
}

/** Does the archive hold anything (a segment, a history file) of this system? */
async function clusterArchived(repo: Repository, cluster: string, systemIdentifier: string): Promise<boolean> {
  const system = (await listArchive(repo, cluster)).get(systemIdentifier);
  return Boolean(system && (system.files.length > 0 || system.histories.size > 0));
}

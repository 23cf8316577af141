/**
 * Which restores go through the point-in-time planner: every one that recovers from pgkeep's
 * WAL archive, so that each gets the same backup choice and timeline checks.
 *
 * - a PITR request (a target, or --target-timeline): planned as asked;
 * - no request, and the backup needs the archive (a hot backup without --standalone): planned
 *   as "the latest point" (no target, timeline latest — what PostgreSQL does by default), so
 *   the backup is one on the latest timeline's history, and an id that is not is refused;
 * - no request, and the backup needs no archive (cold, standalone): no plan, no archive
 *   recovery, as before;
 * - the caller runs recovery itself (its own restore_command or recovery_target* settings, as
 *   restore-table's sandbox after its own planning, or tests fetching WAL from elsewhere): no plan.
 */
import { resolveSnapshot } from '../../backup/resolve.js';
import type { Repository } from '../../repo/index.js';
import type { RecoveryRequest } from '../recovery-config.js';
import { planPitr } from './plan.js';
import type { PitrPlan, PitrRequest } from './types.js';

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

/** Recovery settings that mean the caller has planned recovery on its own. */
function callerRunsRecovery(r: RecoveryRequest | undefined): boolean {
  return Object.keys(r?.settings ?? {}).some((k) => /^(restore_command|recovery_target(_\w+)?)$/i.test(k));
}

/** The PITR plan for this restore, or undefined when it does not recover from pgkeep's archive through the planner. */
export async function planArchiveRecovery(o: ArchiveRecoveryInput): Promise<PitrPlan | undefined> {
  if (o.pitr) return planPitr({ repo: o.repo, cluster: o.cluster, id: o.id, request: o.pitr, signal: o.signal });
  if (callerRunsRecovery(o.recovery)) return undefined;
  const { meta } = await resolveSnapshot(o.repo, o.cluster, o.id ?? 'latest');
  const needsArchive = Boolean(o.recovery?.fromArchive) || (meta.method !== 'cold' && !meta.standalone);
  if (!needsArchive) return undefined;
  return planPitr({ repo: o.repo, cluster: o.cluster, id: o.id, request: LATEST_POINT, plain: true, signal: o.signal });
}

/** What planPitr is given, and the backups it chooses among (plan.ts and its steps share them). */
import type { Repository } from '../../repo/index.js';
import type { SnapshotRefSource } from '../../holdings/snapshot-ref.js';
import type { PhysicalBackupMeta } from '../../holdings/physical-meta.js';
import { formatPgTime } from './time.js';
import type { PitrRequest } from './types.js';

export interface PitrPlanInput {
  repo: SnapshotRefSource & Pick<Repository, 'listObjects' | 'getObject' | 'readSnapshot'>;
  cluster: string;
  /**
   * Snapshot id; undefined or "latest": pgkeep chooses — the newest backup on the history of the
   * timeline recovery follows that ended before the target.
   */
  id?: string;
  request: PitrRequest;
  /**
   * A plain restore (no recovery option given) of a backup that needs the archive: the backup
   * choice and the timeline checks are the same, but WAL missing before the backup's end is a
   * warning, not a refusal (it may be archived later, or be supplied by hand).
   */
  plain?: boolean;
  /** Most archived segments read to check the target (default 256, 4 GiB of 16 MiB segments). */
  scanLimit?: number;
  signal?: AbortSignal;
}

export interface Backup {
  id: string;
  meta: PhysicalBackupMeta;
  stopMicros: bigint;
  stopLsn: bigint;
  startLsn: bigint;
}

export const time = (micros: bigint) => formatPgTime(micros);

export function explicitId(input: PitrPlanInput): boolean {
  return input.id !== undefined && input.id !== 'latest' && input.id !== 'latest-physical'; // latest-logical: refused by resolveSnapshot
}

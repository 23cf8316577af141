/**
 * The physical replication slot the receiver streams from: it makes the server keep WAL until
 * the receiver reports it flushed (stored in the repository), so nothing is recycled while the
 * receiver is down. `--create-slot` creates it with RESERVE_WAL when it is missing.
 */
import { PgkeepError } from '../../errors.js';
import type { ClusterSettings } from '../../config/types.js';
import type { Lsn } from '../../pg/lsn.js';
import type { ReplicationClient } from '../../pg/protocol/index.js';
import { readSlot } from './slot-lookup.js';

export interface SlotState {
  name: string;
  /** Where the server keeps WAL from (null when the slot never reserved WAL). */
  restartLsn: Lsn | null;
  created: boolean;
}

/** `settings`: how to reach the server over SQL (13 and 14 read the slot that way, slot-lookup.ts). */
export async function prepareSlot(
  rc: ReplicationClient,
  settings: ClusterSettings,
  name: string,
  create: boolean,
  signal?: AbortSignal,
): Promise<SlotState> {
  let info = await readSlot(rc, settings, name, signal);
  let created = false;
  if (!info) {
    if (!create) {
      throw new PgkeepError('NOT_FOUND', `the server has no replication slot "${name}"`, {
        hint: `add --create-slot to create it, or create it yourself: SELECT pg_create_physical_replication_slot('${name}', true);`,
        details: { slot: name },
      });
    }
    try {
      await rc.createPhysicalSlot(name, { reserveWal: true });
      created = true;
    } catch (e) {
      // created by someone else meanwhile: use it
      if (!(e instanceof PgkeepError && e.code === 'CONFLICT')) throw e;
    }
    info = await readSlot(rc, settings, name, signal);
    if (!info) throw new PgkeepError('INTERNAL', `replication slot "${name}" vanished right after it was created`);
  }
  if (info.slotType !== 'physical') {
    throw new PgkeepError('USAGE', `replication slot "${name}" is a logical slot; WAL streaming needs a physical one`, {
      hint: 'name another slot (--slot NAME --create-slot creates a physical one)',
      details: { slot: name },
    });
  }
  return { name, restartLsn: info.restartLsn, created };
}

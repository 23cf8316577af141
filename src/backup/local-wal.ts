/**
 * Step "store WAL" of a standalone `local` backup: copy the segments walStart..walEnd (and the
 * timeline's history file) from the server's pg_wal into the snapshot as pg_wal/<name>.
 *
 * Why this is safe while the server runs: pg_backup_stop switched to a new segment, so the last
 * needed segment is complete and flushed; the temporary replication slot created before
 * pg_backup_start (start.ts) keeps every needed segment from being removed or recycled until our
 * session ends, which is after this step. Without a slot (max_replication_slots = 0) a checkpoint
 * could remove a segment first: that fails the backup with a clear message instead of producing
 * a backup that cannot be restored.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import type { SnapshotWriter } from '../repo/index.js';
import { historyFileName } from '../pg/wal-name.js';
import type { WalRange } from '../pg/wal/range.js';
import { groupName, userName } from '../os-names.js';

export async function storeLocalWal(
  writer: SnapshotWriter,
  pgdata: string,
  range: WalRange,
  timeline: number,
  segSize: number,
  signal?: AbortSignal,
): Promise<number> {
  const dir = join(pgdata, 'pg_wal');
  const names = [...range.segments];
  if (timeline > 1) names.unshift(historyFileName(timeline));
  for (const name of names) {
    signal?.throwIfAborted();
    const path = join(dir, name);
    let data: Buffer;
    let st;
    try {
      st = await stat(path);
      data = await readFile(path);
    } catch (e) {
      throw new PgkeepError('SERVER_NOT_READY', `WAL file ${name} needed by the standalone backup is no longer in ${dir}`, {
        hint:
          'the server removed it before it could be copied; set max_replication_slots >= 1 so pgkeep can hold the WAL ' +
          'with a temporary slot, or use --method stream --standalone',
        cause: e,
      });
    }
    if (!name.endsWith('.history') && data.length !== segSize) {
      throw new PgkeepError('DATA_INTEGRITY', `WAL segment ${path} has ${data.length} bytes instead of ${segSize}`);
    }
    await writer.addFile(
      {
        path: `pg_wal/${name}`,
        type: 'file',
        mode: st.mode & 0o7777,
        size: data.length,
        mtimeMs: st.mtimeMs,
        uid: st.uid,
        gid: st.gid,
        owner: userName(st.uid),
        group: groupName(st.gid),
      },
      data,
    );
  }
  return range.segments.length;
}

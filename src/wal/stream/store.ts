/**
 * What the receiver writes to the repository, under the archiver's object names (layout.ts), so
 * `wal stream` and `archive_command = 'pgkeep wal push %p'` can feed the same archive:
 *
 * - a complete segment is write-once: if it is already there (the archiver, or an earlier run of
 *   the receiver, stored it) identical bytes are success and different bytes are an error that
 *   names the segment; the first copy stays;
 * - the `.partial` of the segment being received is replaced at every upload and deleted once the
 *   complete segment is stored (the `.partial` of a timeline's last segment stays);
 * - `<tli>.history` is write-once like segments.
 */
import { PgkeepError } from '../../errors.js';
import type { Repository } from '../../repo/index.js';
import { historyFileName } from '../../pg/wal-name.js';
import { walObjectName } from '../../holdings/wal-layout.js';
import type { Codec } from '../../repo/codec.js';
import { walCodec } from '../push.js';

export type StreamRepo = Pick<Repository, 'putObject' | 'getObject' | 'statObject' | 'listObjects' | 'deleteObject' | 'location' | 'codec'>;

export interface WalTarget {
  repo: StreamRepo;
  cluster: string;
  systemId: string;
  /** The codec WAL is stored with ([archive] compression, as `wal push`); default: walCodec(the repository's). */
  codec?: Codec;
}

const codecOf = (t: WalTarget) => ({ codec: t.codec ?? walCodec(t.repo.codec) });

export type StoreStatus = 'stored' | 'already-archived';

/** Store a complete segment (or history file) write-once; see the file comment. */
export async function storeWriteOnce(t: WalTarget, fileName: string, data: Buffer): Promise<StoreStatus> {
  const object = walObjectName(t.cluster, t.systemId, fileName);
  const { created, key } = await t.repo.putObject(object, data, { ifAbsent: true, ...codecOf(t) });
  if (created) return 'stored';
  const existing = await t.repo.getObject(object);
  if (existing.equals(data)) return 'already-archived';
  throw new PgkeepError(
    'DATA_INTEGRITY',
    `${fileName} is already archived in ${t.repo.location} with different content than the server streamed; the archived copy was kept`,
    {
      hint:
        'two servers are archiving into the same cluster name, or a server was restored and reused WAL names without a ' +
        'new timeline; check every archive_command and wal stream using this repository, and which copy is right',
      details: { file: fileName, object: key, archivedBytes: existing.length, streamedBytes: data.length },
    },
  );
}

/** Store (replace) the `.partial` of a segment. */
export async function storePartial(t: WalTarget, segmentName: string, data: Buffer): Promise<void> {
  await t.repo.putObject(walObjectName(t.cluster, t.systemId, `${segmentName}.partial`), data, codecOf(t));
}

/** Delete the `.partial` of a segment that is now stored complete; false when there was none. */
export async function deletePartial(t: WalTarget, segmentName: string): Promise<boolean> {
  return t.repo.deleteObject(walObjectName(t.cluster, t.systemId, `${segmentName}.partial`));
}

/** Store `<tli>.history` as the server gave it (TIMELINE_HISTORY). */
export async function storeHistory(t: WalTarget, tli: number, content: Buffer): Promise<StoreStatus> {
  return storeWriteOnce(t, historyFileName(tli), content);
}

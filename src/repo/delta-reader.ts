/**
 * Reading delta chunks (format version 2). A run of consecutive delta chunks of a file whose
 * delta blobs are adjacent in one pack and whose base blobs are adjacent in one pack (a file's
 * blobs are written back to back) is read with two range reads; a blob worker decodes each base
 * and checks its SHA-256, applies the delta and checks the rebuilt chunk's SHA-256 (the one the
 * file record holds, as for any chunk), then writes the chunks to the restored file or returns
 * them. The file reader groups chunks with `extendsDeltaRun` and calls this for delta groups.
 */
import { PgkeepError } from '../errors.js';
import type { RepoCore } from './core.js';
import { fetchPackRange } from './blob-reader.js';
import type { DecodeDeltas, DeltaChunkItem } from './delta-tasks.js';
import { damagedBlob } from './integrity.js';
import type { ChunkRef } from './manifest.js';
import type { WorkerReply } from './worker-pool.js';

/** Whether delta chunk `c` continues the run that ends with `last` (both blobs adjacent to the run's). */
export function extendsDeltaRun(last: ChunkRef, c: ChunkRef): boolean {
  const a = last.base;
  const b = c.base;
  return (
    a !== undefined &&
    b !== undefined &&
    c.pack === last.pack &&
    c.packOffset === last.packOffset + last.length &&
    b.pack === a.pack &&
    b.packOffset === a.packOffset + a.length
  );
}

async function run(
  core: RepoCore,
  chunks: readonly ChunkRef[],
  context: string | undefined,
  to: Pick<DecodeDeltas, 'out' | 'fd' | 'position'>,
): Promise<WorkerReply> {
  const first = chunks[0]!;
  const last = chunks[chunks.length - 1]!;
  if (chunks.some((c) => !c.base)) throw new PgkeepError('INTERNAL', 'a delta run holds a chunk that is not a delta');
  const baseFrom = first.base!.packOffset;
  const baseTo = last.base!.packOffset + last.base!.length;
  const [bases, deltas] = await Promise.all([
    fetchPackRange(core.driver, { pack: first.base!.pack, offset: baseFrom, length: baseTo - baseFrom, context }),
    fetchPackRange(core.driver, {
      pack: first.pack,
      offset: first.packOffset,
      length: last.packOffset + last.length - first.packOffset,
      context,
    }),
  ]);
  const data = Buffer.allocUnsafeSlow(bases.length + deltas.length);
  bases.copy(data, 0);
  deltas.copy(data, bases.length);
  const items: DeltaChunkItem[] = chunks.map((c) => ({
    baseAt: c.base!.packOffset - baseFrom,
    baseLength: c.base!.length,
    baseSha256: c.base!.sha256,
    deltaAt: bases.length + c.packOffset - first.packOffset,
    deltaLength: c.length,
    rawLength: c.size,
    expect: c.sha256,
  }));
  const transfer = [data.buffer as ArrayBuffer, ...(to.out ? [to.out.buffer as ArrayBuffer] : [])];
  const reply = await core.pool().run({ op: 'decodeDeltas', data, items, ...to }, transfer);
  if (!reply.error) return reply;
  if (reply.ioCode) throw Object.assign(new Error(reply.error), { code: reply.ioCode, syscall: 'write' });
  if (reply.fatal || reply.failed === undefined) throw new PgkeepError('INTERNAL', `blob worker failed: ${reply.error}`);
  const c = chunks[reply.failed]!;
  const place = reply.onBase
    ? { pack: c.base!.pack, offset: c.base!.packOffset, length: c.base!.length, context }
    : { pack: c.pack, offset: c.packOffset, length: c.length, context };
  throw damagedBlob(place, `delta chunk at offset ${c.offset}: ${reply.error}`);
}

/** The rebuilt, verified content of a run of delta chunks (see extendsDeltaRun), back to back. */
export async function readDeltaRun(core: RepoCore, chunks: readonly ChunkRef[], context?: string): Promise<Buffer> {
  const out = Buffer.allocUnsafeSlow(chunks.reduce((n, c) => n + c.size, 0));
  const reply = await run(core, chunks, context, { out });
  const got = reply.blob!;
  return Buffer.from(got.buffer, got.byteOffset, reply.size!);
}

/** Rebuild a run of delta chunks and write them into `fd` at `position` (in a blob worker); resolves to the bytes written. */
export async function writeDeltaRun(
  core: RepoCore,
  chunks: readonly ChunkRef[],
  fd: number,
  position: number,
  context?: string,
): Promise<number> {
  return (await run(core, chunks, context, { fd, position })).size!;
}

/** One delta chunk's rebuilt, verified content. */
export function readDeltaChunk(core: RepoCore, chunk: ChunkRef, context?: string): Promise<Buffer> {
  return readDeltaRun(core, [chunk], context);
}

/**
 * Reading a delta chunk (format version 2): its base blob and its delta blob are fetched, then a
 * blob worker decodes both, checks the base's SHA-256, applies the delta and checks the rebuilt
 * chunk's SHA-256 (the one the file record holds, as for any chunk). The file reader calls this
 * for each chunk that has a base; nothing that fails a check is returned.
 */
import { write } from 'node:fs';
import { promisify } from 'node:util';
import { PgkeepError } from '../errors.js';
import type { RepoCore } from './core.js';
import { fetchPackRange } from './blob-reader.js';
import { damagedBlob } from './integrity.js';
import type { ChunkRef } from './manifest.js';

const writeAt = promisify(write);

/** The rebuilt, verified plaintext of a delta chunk (one with `base`). */
export async function readDeltaChunk(core: RepoCore, chunk: ChunkRef, context?: string): Promise<Buffer> {
  const base = chunk.base;
  if (!base) throw new PgkeepError('INTERNAL', 'readDeltaChunk called for a chunk that is not a delta');
  const place = { pack: chunk.pack, offset: chunk.packOffset, length: chunk.length, context };
  const [b, d] = await Promise.all([
    fetchPackRange(core.driver, { pack: base.pack, offset: base.packOffset, length: base.length, context }),
    fetchPackRange(core.driver, place),
  ]);
  const data = Buffer.allocUnsafeSlow(b.length + d.length);
  b.copy(data, 0);
  d.copy(data, b.length);
  const out = Buffer.allocUnsafeSlow(chunk.size);
  const task = {
    op: 'decodeDelta' as const,
    data,
    baseLength: b.length,
    baseSha256: base.sha256,
    out,
    rawLength: chunk.size,
    expect: chunk.sha256,
  };
  const reply = await core.pool().run(task, [data.buffer as ArrayBuffer, out.buffer as ArrayBuffer]);
  if (reply.error) {
    if (reply.fatal) throw new PgkeepError('INTERNAL', `blob worker failed: ${reply.error}`);
    const onBase = /base chunk/.test(reply.error);
    throw damagedBlob(onBase ? { pack: base.pack, offset: base.packOffset, length: base.length, context } : place, reply.error);
  }
  const got = reply.blob!;
  return Buffer.from(got.buffer, got.byteOffset, chunk.size);
}

/** Rebuild a delta chunk and write it into `fd` at `position`; resolves to the bytes written. */
export async function writeDeltaChunk(core: RepoCore, chunk: ChunkRef, fd: number, position: number, context?: string): Promise<number> {
  const data = await readDeltaChunk(core, chunk, context);
  let done = 0;
  while (done < data.length) done += (await writeAt(fd, data, done, data.length - done, position + done)).bytesWritten;
  return done;
}

/**
 * Cuts content into chunks at fixed offsets (0, size, 2*size, ...). Every chunk is a view on a
 * buffer of chunkSize bytes that owns its memory (from `alloc`, which may recycle them), so it
 * can be transferred to a worker without copying again.
 */
import type { Readable } from 'node:stream';

export type Content = Readable | Buffer | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface Chunk {
  /** Offset of the chunk in the file. */
  offset: number;
  data: Buffer;
}

export async function* fixedChunks(content: Content, chunkSize: number, onBytes?: (piece: Uint8Array) => void,
  alloc: (size: number) => Buffer = (n) => Buffer.allocUnsafeSlow(n)): AsyncGenerator<Chunk> {
  if (content instanceof Uint8Array) {
    onBytes?.(content);
    for (let off = 0; off < content.length; off += chunkSize) {
      const end = Math.min(content.length, off + chunkSize);
      const data = alloc(chunkSize).subarray(0, end - off);
      data.set(content.subarray(off, end));
      yield { offset: off, data };
    }
    return;
  }
  let cur = alloc(chunkSize);
  let fill = 0;
  let offset = 0;
  for await (const raw of content as AsyncIterable<Uint8Array | string>) {
    const piece = typeof raw === 'string' ? Buffer.from(raw) : raw;
    onBytes?.(piece);
    let p = 0;
    while (p < piece.length) {
      const n = Math.min(chunkSize - fill, piece.length - p);
      cur.set(piece.subarray(p, p + n), fill);
      fill += n;
      p += n;
      if (fill === chunkSize) {
        yield { offset, data: cur };
        offset += chunkSize;
        cur = alloc(chunkSize);
        fill = 0;
      }
    }
  }
  if (fill > 0) yield { offset, data: cur.subarray(0, fill) };
}

/**
 * Content given to a snapshot, read in batches: runs of whole chunks (files are cut at fixed
 * offsets 0, size, 2*size, ...) that the writer's buffers carry to a blob worker in one task.
 */
import { Readable } from 'node:stream';

/**
 * A file's content for SnapshotWriter.addFile: bytes in memory, a stream or iterable of
 * buffers (copied into the writer's buffers), or a ContentReader (read straight into them).
 */
export type Content = Readable | Buffer | Uint8Array | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ContentReader;

/**
 * Content that reads itself into the writer's buffers (no copy): `readInto` fills `into` from
 * its start and returns the number of bytes, fewer than `into.length` only at the end.
 */
export interface ContentReader {
  readInto(into: Buffer): Promise<number>;
  /** Inspect every batch of the content in the blob workers before it is stored. */
  check?: ContentCheck;
}

/**
 * A check run in the blob workers on each batch (a multiple of the chunk size, at most one
 * short batch at the end) before it is hashed and compressed. `module` (a file URL) exports
 * `checkBatch` (a CheckFunction); `params` is passed to it (structured-cloneable). Its report
 * comes back to `onReport` on the calling thread. When the check asks to hold a batch, nothing
 * of it is stored until onReport has seen it (it may change `data` in place); the batch is then
 * stored as it is, without checking again.
 */
export interface ContentCheck {
  module: string;
  params: unknown;
  onReport(report: unknown, data: Buffer, fileOffset: number): void | Promise<void>;
}

export type CheckFunction = (data: Uint8Array, fileOffset: number, params: any) => { report?: unknown; hold?: boolean } | undefined;

export function isContentReader(c: Content): c is ContentReader {
  return typeof (c as ContentReader).readInto === 'function' && !(c instanceof Readable);
}

/**
 * Reads content in batches of `batchSize` bytes (a multiple of the chunk size): the returned
 * function fills `into` and resolves to the number of bytes, `batchSize` except for the last
 * batch, then 0.
 */
export function batchReader(content: Content, batchSize: number): (into: Buffer) => Promise<number> {
  if (isContentReader(content)) {
    let ended = false;
    return async (into) => {
      if (ended) return 0;
      const n = await content.readInto(into.subarray(0, batchSize));
      if (n < batchSize) ended = true;
      return n;
    };
  }
  if (content instanceof Uint8Array) {
    let pos = 0;
    return async (into) => {
      const n = Math.min(batchSize, content.length - pos);
      into.set(content.subarray(pos, pos + n));
      pos += n;
      return n;
    };
  }
  return fillFrom(iterate(content), batchSize);
}

/**
 * A Readable as a ContentReader: its pieces are copied into the writer's buffers as they were
 * pushed (no concatenation); `onBytes` sees the size of each piece.
 */
export function streamContent(stream: Readable, onBytes?: (n: number) => void): ContentReader {
  const fill = fillFrom(iterate(stream, onBytes), Number.MAX_SAFE_INTEGER);
  return { readInto: (into) => fill(into) };
}

/** Fill buffers from a sequence of pieces: `into` (up to `max` bytes) is filled unless the pieces end. */
function fillFrom(source: AsyncIterator<Uint8Array | string>, max: number): (into: Buffer) => Promise<number> {
  let piece: Uint8Array | undefined;
  let used = 0;
  let ended = false;
  return async (into) => {
    const size = Math.min(max, into.length);
    let fill = 0;
    while (fill < size && !ended) {
      if (!piece || used === piece.length) {
        const r = await source.next();
        if (r.done) {
          ended = true;
          break;
        }
        piece = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
        used = 0;
        continue;
      }
      const n = Math.min(size - fill, piece.length - used);
      into.set(piece.subarray(used, used + n), fill);
      fill += n;
      used += n;
    }
    return fill;
  };
}

/**
 * The pieces of a stream or iterable. A Readable is read in flowing mode, so its pieces come as
 * they were pushed (its async iterator would concatenate what is buffered into new buffers).
 */
async function* iterate(content: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  onBytes?: (n: number) => void): AsyncGenerator<Uint8Array | string> {
  if (!(content instanceof Readable)) {
    for await (const c of content as AsyncIterable<Uint8Array>) {
      onBytes?.(c.length);
      yield c;
    }
    return;
  }
  const queue: (Uint8Array | string)[] = [];
  let queued = 0;
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const limit = Math.max(content.readableHighWaterMark, 64 * 1024);
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (c: Uint8Array | string) => {
    queue.push(c);
    queued += c.length;
    if (queued >= limit) content.pause();
    notify();
  };
  const onEnd = () => {
    done = true;
    notify();
  };
  const onError = (e: unknown) => {
    failure = e;
    done = true;
    notify();
  };
  content.on('data', onData);
  content.once('end', onEnd);
  content.once('error', onError);
  content.once('close', onEnd);
  try {
    for (;;) {
      if (queue.length > 0) {
        const c = queue.shift()!;
        queued -= c.length;
        if (queued < limit && content.isPaused()) content.resume();
        onBytes?.(c.length);
        yield c;
        continue;
      }
      if (failure) throw failure;
      if (done) {
        // 'close' may come without 'end' when the stream was destroyed early
        if (!content.readableEnded && !failure && content.destroyed) {
          throw (content.errored as Error | null) ?? new Error('the content stream was closed before its end');
        }
        return;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    content.off('data', onData);
    content.off('end', onEnd);
    content.off('error', onError);
    content.off('close', onEnd);
    if (!done) content.destroy();
  }
}

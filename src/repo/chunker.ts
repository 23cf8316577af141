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
  /** Called when the content is not read to its end (the file failed): release what it holds. */
  close?(): void;
  /** Inspect every batch of the content in the blob workers before it is stored. */
  check?: ContentCheck;
  /** The content is a range of an open file, which the blob workers read themselves (readInto is then not used). */
  file?: FileRange;
}

/**
 * Bytes [start, end) of an open file descriptor (it must stay open until the content is stored).
 * `onRead` hears, in file order, how many bytes each batch read of how many it wanted; the first
 * batch that reads fewer (the file shrank) ends the content there.
 */
export interface FileRange {
  fd: number;
  start: number;
  end: number;
  onRead(got: number, wanted: number): void;
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

/** Reads content in batches; `close` releases a stream that was not read to its end. */
export interface BatchReader {
  /** Fill `into` (up to the batch size): resolves to the bytes, the batch size except for the last batch, then 0. */
  read(into: Buffer): Promise<number>;
  close(): void;
}

/** Reads content in batches of `batchSize` bytes (a multiple of the chunk size). */
export function batchReader(content: Content, batchSize: number): BatchReader {
  if (isContentReader(content)) {
    let ended = false;
    return {
      read: async (into) => {
        if (ended) return 0;
        const n = await content.readInto(into.subarray(0, batchSize));
        if (n < batchSize) ended = true;
        return n;
      },
      close: () => content.close?.(),
    };
  }
  if (content instanceof Uint8Array) {
    let pos = 0;
    return {
      read: async (into) => {
        const n = Math.min(batchSize, content.length - pos);
        into.set(content.subarray(pos, pos + n));
        pos += n;
        return n;
      },
      close: () => undefined,
    };
  }
  const source = content instanceof Readable ? readablePieces(content) : iterablePieces(content);
  return { read: fillFrom(source, batchSize), close: () => source.close() };
}

/**
 * A Readable as a ContentReader: its pieces are copied into the writer's buffers as they were
 * pushed (no concatenation, no promise per piece); `onBytes` sees the size of each piece.
 */
export function streamContent(stream: Readable, onBytes?: (n: number) => void): ContentReader {
  const source = readablePieces(stream, onBytes);
  return { readInto: fillFrom(source, Number.MAX_SAFE_INTEGER), close: () => source.close() };
}

/** Pieces of content: `poll` gives one if ready (null: wait() first; undefined: the end) or throws the failure. */
interface PieceSource {
  poll(): Uint8Array | null | undefined;
  wait(): Promise<void>;
  /** Stop early: release the underlying stream. */
  close(): void;
}

/** Fill buffers from pieces: `into` (up to `max` bytes) is filled unless the pieces end. */
function fillFrom(source: PieceSource, max: number): (into: Buffer) => Promise<number> {
  let piece: Uint8Array | undefined;
  let used = 0;
  let ended = false;
  return async (into) => {
    const size = Math.min(max, into.length);
    let fill = 0;
    while (fill < size && !ended) {
      if (!piece || used === piece.length) {
        const next = source.poll();
        if (next === undefined) ended = true;
        else if (next === null) await source.wait();
        else {
          piece = next;
          used = 0;
        }
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

function iterablePieces(content: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): PieceSource {
  const it =
    Symbol.asyncIterator in content
      ? (content as AsyncIterable<Uint8Array | string>)[Symbol.asyncIterator]()
      : (content as Iterable<Uint8Array | string>)[Symbol.iterator]();
  let ready: Uint8Array | undefined;
  let done = false;
  return {
    poll() {
      if (ready) {
        const r = ready;
        ready = undefined;
        return r;
      }
      return done ? undefined : null;
    },
    async wait() {
      const r = await it.next();
      if (r.done) done = true;
      else ready = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    },
    close() {
      if (!done) void Promise.resolve(it.return?.()).catch(() => undefined);
      done = true;
    },
  };
}

/**
 * A Readable read in flowing mode, so its pieces come as they were pushed (its async iterator
 * would concatenate what is buffered into new buffers); paused while enough is queued.
 */
function readablePieces(stream: Readable, onBytes?: (n: number) => void): PieceSource {
  const queue: (Uint8Array | undefined)[] = []; // a polled slot is cleared (undefined) until the next splice
  let head = 0;
  let queued = 0;
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const limit = Math.max(stream.readableHighWaterMark, 64 * 1024);
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (c: Uint8Array | string) => {
    const piece = typeof c === 'string' ? Buffer.from(c) : c;
    queue.push(piece);
    queued += piece.length;
    if (queued >= limit) stream.pause();
    notify();
  };
  const onEnd = () => {
    if (!done && !stream.readableEnded && stream.destroyed) {
      // 'close' without 'end': destroyed before its end
      failure ??= (stream.errored as Error | null) ?? new Error('the content stream was closed before its end');
    }
    done = true;
    notify();
  };
  const onError = (e: unknown) => {
    failure ??= e;
    done = true;
    notify();
  };
  const detach = () => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('close', onEnd);
  };
  stream.on('data', onData);
  stream.once('end', onEnd);
  stream.once('error', onError);
  stream.once('close', onEnd);
  return {
    poll() {
      if (head < queue.length) {
        const c = queue[head]!;
        queue[head++] = undefined;
        if (head === queue.length || head > 1024) {
          queue.splice(0, head);
          head = 0;
        }
        queued -= c.length;
        if (queued < limit && stream.isPaused() && !done) stream.resume();
        onBytes?.(c.length);
        return c;
      }
      if (failure) {
        detach();
        throw failure;
      }
      if (done) {
        detach();
        return undefined;
      }
      return null;
    },
    wait() {
      return new Promise<void>((resolve) => {
        wake = resolve;
      });
    },
    close() {
      if (done) return;
      done = true;
      detach();
      stream.destroy();
    },
  };
}

/**
 * File ranges read by the blob workers (ContentReader.file): each batch is read where it is
 * hashed and compressed, so its bytes are still in that core's cache, and the main thread only
 * sizes the batches. Batches are read ahead in parallel but finished in file order; the first
 * one that reads fewer bytes than it wanted (the file shrank while being read) ends the content:
 * what it read is stored, nothing after it.
 */
import { PgkeepError } from '../errors.js';
import type { FileRange } from './chunker.js';
import type { WorkerReply } from './worker-pool.js';

/** Where a run of batches of one file range ended (undefined: not yet). */
export interface ReadRun {
  end: number | undefined;
}

/** One batch of a file range: read from `position` of `range.fd`. */
export interface BatchRead {
  range: FileRange;
  position: number;
  run: ReadRun;
}

/**
 * Called for each batch in file order, before it is stored: true when an earlier batch ended
 * the content (this one is dropped); otherwise reports what was read, and a short read ends the
 * run at `offset + got`.
 */
export function endOfRead(read: BatchRead, offset: number, got: number, wanted: number): boolean {
  if (read.run.end !== undefined) return true;
  read.range.onRead(got, wanted);
  if (got < wanted) read.run.end = offset + got;
  return false;
}

/** The error a failed encodeBatch reply stands for: the file's own read error (errno code kept), or a worker failure. */
export function workerError(reply: WorkerReply): Error {
  if (reply.ioCode) return Object.assign(new Error(reply.error), { code: reply.ioCode });
  return new PgkeepError('INTERNAL', `blob worker failed: ${reply.error}`);
}

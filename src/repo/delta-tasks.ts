/** The blob workers' delta tasks (delta-worker.ts): what goes in, what comes back. */
import type { Codec } from './codec.js';

/** An encodeBatch size: the chunk changed and was left unencoded for an encodeDeltas task. */
export const DELTA_PENDING = -3;

/** One changed chunk of an encodeDeltas batch, with the stored base blob it may be a delta on. */
export interface DeltaItem {
  /** Index of the chunk in the batch. */
  index: number;
  /** Where the base blob is in `bases`; length 0: no base could be read (store the chunk whole). */
  at: number;
  length: number;
  /** SHA-256 the base's plaintext must have. */
  baseSha256: string;
}

/**
 * Changed chunks of a batch (`data`, cut every `chunkSize` bytes) that the encodeBatch task left
 * unencoded: each becomes a delta on its base when that is at most half the chunk, else a full
 * blob; blobs go into `out` back to back from `outAt`.
 */
export interface EncodeDeltas {
  data: Uint8Array;
  length: number;
  chunkSize: number;
  out: Uint8Array;
  outAt: number;
  codec: Codec;
  /** Base blobs back to back, as read from their packs. */
  bases: Uint8Array;
  items: DeltaItem[];
}

/** What became of one DeltaItem: a blob of `size` bytes in `out`, of kind 0 (full) or 2 (delta). */
export interface DeltaResult {
  size: number;
  kind: number;
  /** Plaintext length and SHA-256 of the blob (for the pack index). */
  rawLength: number;
  sha256: string;
}

/** One delta chunk of a decodeDeltas task: where its base and delta blobs are in `data`, and what it must be. */
export interface DeltaChunkItem {
  baseAt: number;
  baseLength: number;
  baseSha256: string;
  deltaAt: number;
  deltaLength: number;
  rawLength: number;
  /** SHA-256 of the rebuilt chunk. */
  expect: string;
}

/**
 * Rebuild consecutive delta chunks of a file from their blobs in `data` (a range of base blobs
 * and a range of delta blobs, as read from their packs): the chunks, back to back, are written
 * to `fd` at `position` (restore), or without `fd` land in `out`.
 */
export interface DecodeDeltas {
  data: Uint8Array;
  items: DeltaChunkItem[];
  out?: Uint8Array;
  fd?: number;
  position?: number;
}

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

/**
 * Rebuild one delta chunk: `data` holds its base blob at [0, baseLength) and its delta blob
 * right after; the chunk (rawLength bytes, SHA-256 `expect`) lands in `out`.
 */
export interface DecodeDelta {
  data: Uint8Array;
  baseLength: number;
  baseSha256: string;
  out: Uint8Array;
  rawLength: number;
  expect: string;
}

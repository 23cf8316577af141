/**
 * What gc needs to know of the live blobs, each read from one walk of the sorted references
 * (refs.ts) so memory follows the number of packs, not of blobs: live bytes per pack, the
 * snapshots using some packs, and batches of packs to repack (a batch is bounded by its number
 * of live blobs; a repack of more works batch by batch).
 */
import type { RefSet } from './refs.js';

/** Live blobs copied per repack batch (where each went is held in memory: ~40 bytes each). */
export const REPACK_BATCH_BLOBS = 1_000_000;

export interface PackLiveness {
  /** Stored bytes of the pack's referenced blobs. */
  bytes: number;
  blobs: number;
}

/** Live bytes and blobs of every referenced pack. */
export async function liveByPack(refs: RefSet, signal?: AbortSignal): Promise<Map<string, PackLiveness>> {
  const out = new Map<string, PackLiveness>();
  let last: PackLiveness | undefined;
  let lastPack = '';
  for await (const b of refs.blobs()) {
    if (b.pack !== lastPack || !last) {
      signal?.throwIfAborted();
      out.set(b.pack, (last = { bytes: 0, blobs: 0 }));
      lastPack = b.pack;
    }
    last.bytes += b.length;
    last.blobs++;
  }
  return out;
}

/** The snapshots (indexes into refs.snapshots) that use a blob of one of these packs. */
export async function usersOf(refs: RefSet, packs: ReadonlySet<string>): Promise<Set<number>> {
  const users = new Set<number>();
  if (packs.size === 0) return users;
  for await (const b of refs.blobs()) if (packs.has(b.pack)) for (const u of b.users) users.add(u);
  return users;
}

/** Split packs into batches of at most `budget` live blobs (a pack with more goes alone). */
export function repackBatches<T extends { pack: string }>(
  packs: readonly T[],
  live: ReadonlyMap<string, PackLiveness>,
  budget: number,
): T[][] {
  const batches: T[][] = [];
  let batch: T[] = [];
  let blobs = 0;
  for (const p of packs) {
    const n = live.get(p.pack)?.blobs ?? 0;
    if (batch.length > 0 && blobs + n > budget) {
      batches.push(batch);
      batch = [];
      blobs = 0;
    }
    batch.push(p);
    blobs += n;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

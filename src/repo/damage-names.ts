/**
 * Naming what a damaged place affects: repo check finds damage pack by pack without holding who
 * uses each blob (that would grow with the repository), then, only when something is damaged,
 * reads every manifest once more and names the snapshots and a few files that use a blob
 * starting in a damaged range of a pack.
 */
import type { Repository } from './repository.js';
import { label, type Damage, type SnapshotRef } from './refs.js';
import { Snapshot } from './snapshot.js';

/** Files named per damaged object at most. */
const MAX_FILES = 5;

/** Blobs of `pack` starting at offsets from..to-1 are damaged, as `damage` says. */
export interface DamageTarget {
  damage: Damage;
  pack: string;
  from: number;
  to: number;
}

interface Hits {
  snapshots: Set<number>;
  files: Set<string>;
}

/** Fill in each target's damage.snapshots (in snapshot order) and files (up to a few). */
export async function nameAffected(
  repo: Repository,
  snapshots: readonly SnapshotRef[],
  targets: readonly DamageTarget[],
  signal?: AbortSignal,
): Promise<void> {
  if (targets.length === 0) return;
  const byPack = new Map<string, { target: DamageTarget; hits: Hits }[]>();
  for (const target of targets) {
    let list = byPack.get(target.pack);
    if (!list) byPack.set(target.pack, (list = []));
    list.push({ target, hits: { snapshots: new Set(), files: new Set() } });
  }
  const hit = (user: number, pack: string, offset: number, path?: string) => {
    for (const { target, hits } of byPack.get(pack) ?? []) {
      if (offset < target.from || offset >= target.to) continue;
      hits.snapshots.add(user);
      if (path !== undefined && hits.files.size < MAX_FILES) hits.files.add(path);
    }
  };
  for (const [user, s] of snapshots.entries()) {
    signal?.throwIfAborted();
    let snap: Snapshot;
    try {
      snap = new Snapshot(repo, await repo.readManifest(s.cluster, s.id));
    } catch {
      continue; // already reported as damage by the reference walk
    }
    for (const part of snap.manifest.parts) {
      hit(user, part.locator.pack, part.locator.offset);
      let records;
      try {
        records = await snap.readPart(part);
      } catch {
        continue;
      }
      for (const r of records) {
        for (const c of r.chunks) {
          hit(user, c.pack, c.packOffset, r.path);
          if (c.base) hit(user, c.base.pack, c.base.packOffset, r.path);
        }
      }
    }
  }
  for (const list of byPack.values()) {
    for (const { target, hits } of list) {
      target.damage.snapshots = [...hits.snapshots].sort((a, b) => a - b).map((u) => label(snapshots[u]!));
      if (hits.files.size > 0) target.damage.files = [...hits.files];
    }
  }
}

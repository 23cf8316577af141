/**
 * Everything live manifests reference: per pack, the blobs (offset -> length, hash, users).
 * gc marks with it; check verifies against it.
 */
import type { Repository } from './repository.js';
import { manifestName, type ChunkRef } from './manifest.js';
import { BLOB_KIND_CHUNK, BLOB_KIND_DELTA, BLOB_KIND_FILE_LIST } from './pack-format.js';
import { Snapshot } from './snapshot.js';

export interface SnapshotRef {
  cluster: string;
  id: string;
}

export interface BlobRef {
  length: number;
  /** SHA-256 of the plaintext ('' for a delta blob: the record holds the rebuilt chunk's, in `delta`). */
  sha256: string;
  /** Plaintext length (chunks; 0 for file lists and deltas, whose size the manifest does not record). */
  rawLength: number;
  kind: number;
  /** Indexes into RefSet.snapshots. */
  users: Set<number>;
  /** One file that uses the blob (for messages). */
  path?: string;
  /** A delta blob (kind 2): the chunk it rebuilds with its base (check --read-data rebuilds it). */
  delta?: ChunkRef;
}

export interface Damage {
  /** The damaged object: a manifest key, a pack key, or a pack key with an offset. */
  object: string;
  offset?: number;
  problem: string;
  /** "cluster/id" of every snapshot affected. */
  snapshots: string[];
  /** Up to a few affected files. */
  files?: string[];
}

export interface RefSet {
  snapshots: SnapshotRef[];
  packs: Map<string, Map<number, BlobRef>>;
  /** Manifests or file lists that could not be read (empty, or collection threw, in strict mode). */
  damage: Damage[];
  logicalBytes: number;
}

export function label(s: SnapshotRef): string {
  return `${s.cluster}/${s.id}`;
}

/**
 * Read every manifest and file list. strict: throw on the first unreadable one (gc must not
 * delete anything when it cannot know what is referenced); otherwise record it as damage.
 */
export async function collectRefs(repo: Repository, strict: boolean, signal?: AbortSignal): Promise<RefSet> {
  const set: RefSet = { snapshots: [], packs: new Map(), damage: [], logicalBytes: 0 };
  const add = (pack: string, offset: number, ref: Omit<BlobRef, 'users'>, user: number) => {
    let m = set.packs.get(pack);
    if (!m) set.packs.set(pack, (m = new Map()));
    let r = m.get(offset);
    if (!r) m.set(offset, (r = { ...ref, users: new Set() }));
    r.users.add(user);
  };
  for (const cluster of await repo.listClusters()) {
    for (const id of await repo.listSnapshotIds(cluster)) {
      signal?.throwIfAborted();
      const user = set.snapshots.push({ cluster, id }) - 1;
      let snap: Snapshot;
      try {
        snap = new Snapshot(repo, await repo.readManifest(cluster, id));
      } catch (e) {
        if (strict) throw e;
        set.damage.push({ object: manifestName(cluster, id), problem: (e as Error).message, snapshots: [`${cluster}/${id}`] });
        continue;
      }
      set.logicalBytes += snap.stats.logicalBytes;
      for (const part of snap.manifest.parts) {
        const { pack, offset, length } = part.locator;
        add(pack, offset, { length, sha256: part.sha256, rawLength: 0, kind: BLOB_KIND_FILE_LIST }, user);
        let records;
        try {
          records = await snap.readPart(part);
        } catch (e) {
          if (strict) throw e;
          set.damage.push({
            object: `packs/${pack.slice(0, 2)}/${pack}`,
            offset,
            problem: (e as Error).message,
            snapshots: [`${cluster}/${id}`],
          });
          continue;
        }
        for (const r of records) {
          for (const c of r.chunks) {
            if (!c.base) {
              add(
                c.pack,
                c.packOffset,
                { length: c.length, sha256: c.sha256, rawLength: c.size, kind: BLOB_KIND_CHUNK, path: r.path },
                user,
              );
              continue;
            }
            // a delta chunk keeps its base chunk alive, whichever snapshot stored that base
            const b = c.base;
            add(b.pack, b.packOffset, { length: b.length, sha256: b.sha256, rawLength: c.size, kind: BLOB_KIND_CHUNK, path: r.path }, user);
            add(c.pack, c.packOffset, { length: c.length, sha256: '', rawLength: 0, kind: BLOB_KIND_DELTA, path: r.path, delta: c }, user);
          }
        }
      }
    }
  }
  return set;
}

/**
 * Everything live manifests reference, in bounded memory: every blob reference of every file
 * list goes into a sorted spill (ref-spill.ts), and `blobs()` walks the distinct blobs pack by
 * pack in offset order, each with the snapshots that use it. gc marks with it; check verifies
 * against it; expire estimates with it. What stays in memory grows with the number of packs and
 * snapshots only (a name per pack, a label per snapshot), not with the number of blobs.
 */
import type { Repository } from './repository.js';
import { manifestName, type ChunkRef } from './manifest.js';
import { BLOB_KIND_CHUNK, BLOB_KIND_DELTA, BLOB_KIND_FILE_LIST } from './pack-format.js';
import { REF_BUDGET, RefSpill, type RefCursor } from './ref-spill.js';
import { Snapshot } from './snapshot.js';

export interface SnapshotRef {
  cluster: string;
  id: string;
}

/** One distinct blob that live manifests reference. */
export interface BlobRef {
  pack: string;
  offset: number;
  length: number;
  /** SHA-256 of the plaintext ('' for a delta blob, whose record holds the rebuilt chunk's, or when hashes were not kept). */
  sha256: string;
  /** Plaintext length (chunks; 0 for file lists and deltas, whose size the manifest does not record). */
  rawLength: number;
  kind: number;
  /** Indexes into RefSet.snapshots, ascending. */
  users: number[];
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

export interface CollectOptions {
  signal?: AbortSignal;
  /** Keep each reference's SHA-256 (check compares it with the pack's index; gc and expire need not). */
  hashes?: boolean;
  /** Also keep every delta chunk (for `deltas()`: check --read-data rebuilds them). */
  deltas?: boolean;
  /** Records held in memory before a sorted run is written (tests make it small). */
  budget?: number;
}

/** Record widths: key (14), length, rawLength, kind, has-hash flag (10), then the SHA-256 when kept. */
const WIDTH = 24;
const HASHED_WIDTH = 56;
const DELTA_WIDTH = 106;

export class RefSet {
  readonly snapshots: SnapshotRef[] = [];
  /** Manifests or file lists that could not be read (empty, or collection threw, in strict mode). */
  readonly damage: Damage[] = [];
  logicalBytes = 0;
  private readonly packNumbers = new Map<string, number>();
  private readonly packNames: string[] = [];
  private readonly refs: RefSpill;
  private readonly deltaRefs: RefSpill | undefined;
  private readonly hashes: boolean;

  constructor(opts: CollectOptions) {
    this.hashes = Boolean(opts.hashes);
    this.refs = new RefSpill(this.hashes ? HASHED_WIDTH : WIDTH, opts.budget ?? REF_BUDGET);
    this.deltaRefs = opts.deltas ? new RefSpill(DELTA_WIDTH, Math.min(opts.budget ?? REF_BUDGET, 64 * 1024)) : undefined;
  }

  /** Whether any live manifest references a blob of the pack. */
  uses(pack: string): boolean {
    return this.packNumbers.has(pack);
  }

  /** Packs referenced, in the order `blobs()` walks them. */
  get packs(): readonly string[] {
    return this.packNames;
  }

  /** Runs written to temporary files (0 when everything fitted in memory). */
  get spilledRuns(): number {
    return this.refs.spilledRuns + (this.deltaRefs?.spilledRuns ?? 0);
  }

  /** Every distinct referenced blob, pack by pack (in `packs` order), by offset within a pack. */
  async *blobs(): AsyncGenerator<BlobRef> {
    let cur: BlobRef | undefined;
    let curKey = Buffer.alloc(10);
    for await (const c of this.refs.merged()) {
      const user = c.buf.readUInt32BE(c.at + 10);
      if (cur && c.buf.compare(curKey, 0, 10, c.at, c.at + 10) === 0) {
        if (cur.users[cur.users.length - 1] !== user) cur.users.push(user);
        continue;
      }
      if (cur) yield cur;
      curKey = Buffer.from(c.buf.subarray(c.at, c.at + 10));
      cur = this.decode(c, user);
    }
    if (cur) yield cur;
  }

  /**
   * The referenced packs (in `packs` order), each with its blobs: walk a pack's blobs (all,
   * some or none) before taking the next pack.
   */
  async *byPack(): AsyncGenerator<{ pack: string; blobs: AsyncGenerator<BlobRef> }> {
    const it = this.blobs();
    let cur = await it.next();
    while (!cur.done) {
      const pack = cur.value.pack;
      const blobs = async function* (): AsyncGenerator<BlobRef> {
        while (!cur.done && cur.value.pack === pack) {
          const b = cur.value;
          cur = await it.next();
          yield b;
        }
      };
      yield { pack, blobs: blobs() };
      while (!cur.done && cur.value.pack === pack) cur = await it.next();
    }
  }

  /** Every distinct delta chunk (collected with `deltas: true`), by its delta blob. */
  async *deltas(): AsyncGenerator<ChunkRef> {
    if (!this.deltaRefs) return;
    let last: Buffer | undefined;
    for await (const { buf, at } of this.deltaRefs.merged()) {
      if (last && buf.compare(last, 0, 10, at, at + 10) === 0) continue;
      last = Buffer.from(buf.subarray(at, at + 10));
      yield {
        pack: this.packNames[buf.readUInt32BE(at)]!,
        packOffset: buf.readUIntBE(at + 4, 6),
        length: buf.readUInt32BE(at + 14),
        size: buf.readUInt32BE(at + 18),
        offset: buf.readUIntBE(at + 22, 6),
        sha256: buf.toString('hex', at + 28, at + 60),
        base: {
          pack: this.packNames[buf.readUInt32BE(at + 60)]!,
          packOffset: buf.readUIntBE(at + 64, 6),
          length: buf.readUInt32BE(at + 70),
          sha256: buf.toString('hex', at + 74, at + 106),
        },
      };
    }
  }

  /** Drop the temporary files (idempotent). */
  async close(): Promise<void> {
    await this.refs.close();
    await this.deltaRefs?.close();
  }

  /** Note one reference of snapshot `user` to a blob; true when `flush()` must be awaited before the next. */
  add(pack: string, offset: number, user: number, facts: { length: number; rawLength: number; kind: number; sha256: string }): boolean {
    const s = this.refs;
    const at = s.reserve(this.packNumber(pack), offset, user);
    const b = s.buffer;
    b.writeUInt32BE(facts.length, at + 14);
    b.writeUInt32BE(facts.rawLength, at + 18);
    b[at + 22] = facts.kind;
    b[at + 23] = this.hashes && facts.sha256 ? 1 : 0;
    if (this.hashes) writeSha(b, at + 24, facts.sha256);
    return s.full;
  }

  /** Note a delta chunk of snapshot `user` (only when collecting deltas); true as for `add`. */
  addDelta(c: ChunkRef, user: number): boolean {
    const s = this.deltaRefs;
    const base = c.base;
    if (!s || !base) return false;
    const at = s.reserve(this.packNumber(c.pack), c.packOffset, user);
    const b = s.buffer;
    b.writeUInt32BE(c.length, at + 14);
    b.writeUInt32BE(c.size, at + 18);
    b.writeUIntBE(c.offset, at + 22, 6);
    writeSha(b, at + 28, c.sha256);
    b.writeUInt32BE(this.packNumber(base.pack), at + 60);
    b.writeUIntBE(base.packOffset, at + 64, 6);
    b.writeUInt32BE(base.length, at + 70);
    writeSha(b, at + 74, base.sha256);
    return s.full;
  }

  /** Write out whichever budget is full. */
  async flush(): Promise<void> {
    if (this.refs.full) await this.refs.flush();
    if (this.deltaRefs?.full) await this.deltaRefs.flush();
  }

  private packNumber(pack: string): number {
    let n = this.packNumbers.get(pack);
    if (n === undefined) {
      n = this.packNames.push(pack) - 1;
      this.packNumbers.set(pack, n);
    }
    return n;
  }

  private decode(c: RefCursor, user: number): BlobRef {
    const { buf, at } = c;
    return {
      pack: this.packNames[buf.readUInt32BE(at)]!,
      offset: buf.readUIntBE(at + 4, 6),
      length: buf.readUInt32BE(at + 14),
      rawLength: buf.readUInt32BE(at + 18),
      kind: buf[at + 22]!,
      sha256: buf[at + 23] ? buf.toString('hex', at + 24, at + 56) : '',
      users: [user],
    };
  }
}

/** A SHA-256 in hex as 32 bytes (a malformed one as zeros: it then disagrees with any pack index). */
function writeSha(b: Buffer, at: number, hex: string): void {
  if (hex.length !== 64 || b.write(hex, at, 32, 'hex') !== 32) b.fill(0, at, at + 32);
}

export function label(s: SnapshotRef): string {
  return `${s.cluster}/${s.id}`;
}

/**
 * Read every manifest and file list. strict: throw on the first unreadable one (gc must not
 * delete anything when it cannot know what is referenced); otherwise record it as damage.
 * The caller closes the set (its temporary files) when done with it.
 */
export async function collectRefs(repo: Repository, strict: boolean, opts: CollectOptions = {}): Promise<RefSet> {
  const set = new RefSet(opts);
  try {
    for (const cluster of await repo.listClusters()) {
      for (const id of await repo.listSnapshotIds(cluster)) {
        opts.signal?.throwIfAborted();
        await addSnapshot(repo, set, { cluster, id }, strict);
      }
    }
  } catch (e) {
    await set.close();
    throw e;
  }
  return set;
}

async function addSnapshot(repo: Repository, set: RefSet, ref: SnapshotRef, strict: boolean): Promise<void> {
  const { cluster, id } = ref;
  const user = set.snapshots.push(ref) - 1;
  let snap: Snapshot;
  try {
    snap = new Snapshot(repo, await repo.readManifest(cluster, id));
  } catch (e) {
    if (strict) throw e;
    set.damage.push({ object: manifestName(cluster, id), problem: (e as Error).message, snapshots: [label(ref)] });
    return;
  }
  set.logicalBytes += snap.stats.logicalBytes;
  for (const part of snap.manifest.parts) {
    const { pack, offset, length } = part.locator;
    if (set.add(pack, offset, user, { length, sha256: part.sha256, rawLength: 0, kind: BLOB_KIND_FILE_LIST })) await set.flush();
    let records;
    try {
      records = await snap.readPart(part);
    } catch (e) {
      if (strict) throw e;
      set.damage.push({ object: `packs/${pack.slice(0, 2)}/${pack}`, offset, problem: (e as Error).message, snapshots: [label(ref)] });
      continue;
    }
    for (const r of records) {
      for (const c of r.chunks) {
        const b = c.base;
        if (!b) {
          if (set.add(c.pack, c.packOffset, user, { length: c.length, sha256: c.sha256, rawLength: c.size, kind: BLOB_KIND_CHUNK }))
            await set.flush();
          continue;
        }
        // a delta chunk keeps its base chunk alive, whichever snapshot stored that base
        if (set.add(b.pack, b.packOffset, user, { length: b.length, sha256: b.sha256, rawLength: c.size, kind: BLOB_KIND_CHUNK }))
          await set.flush();
        if (set.add(c.pack, c.packOffset, user, { length: c.length, sha256: '', rawLength: 0, kind: BLOB_KIND_DELTA })) await set.flush();
        if (set.addDelta(c, user)) await set.flush();
      }
    }
  }
}

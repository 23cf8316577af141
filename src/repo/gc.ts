/**
 * Garbage collection under the exclusive lock: mark every blob referenced by a live manifest,
 * delete packs nothing references, and repack packs that are mostly unreferenced (copy their
 * live blobs to a new pack, rewrite the manifests that point at them, then delete the old
 * packs). Packs newer than the oldest shared lock still held are never touched. Temporary files
 * of killed writers are removed when no running writer can own them (temp-files.ts).
 * Order of writes keeps every step crash-safe: new packs, then manifests, then deletions.
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from './repository.js';
import { acquireLock, oldestSharedLockStart } from './locks.js';
import { collectRefs, type BlobRef } from './refs.js';
import { packIdFromKey, packKey, BLOB_KIND_DELTA, BLOB_KIND_FILE_LIST } from './pack-format.js';
import { readPackIndex } from './pack-reader.js';
import { PackWriter, type Locator } from './pack-writer.js';
import { fetchPackRange } from './blob-reader.js';
import { encodeBlob, sha256 } from './blob.js';
import { encodePart, manifestName, type ChunkRef, type FileListPart, type FileRecord, type SnapshotManifest } from './manifest.js';
import type { PackIndexEntry } from './pack-format.js';
import { Snapshot } from './snapshot.js';
import { putObject, statObject } from './objects.js';
import { listTemporary, removableTemporary } from './temp-files.js';
import { cleanUpAfter, releaseAfterSuccess } from '../cleanup.js';

export interface GcOptions {
  dryRun?: boolean;
  /** Repack packs whose live share is below this (0-1, default 0.5). 0 disables repacking. */
  repackBelow?: number;
  signal?: AbortSignal;
  /** Steps as they happen, for the CLI to render. */
  onStep?: (message: string) => void;
}

export interface GcPackAction {
  pack: string;
  size: number;
  liveBytes: number;
}

export interface GcReport {
  dryRun: boolean;
  snapshots: number;
  packs: number;
  /** Packs with no live blob: deleted. */
  deleted: GcPackAction[];
  /** Packs below the live threshold: live blobs copied, then deleted. */
  repacked: GcPackAction[];
  /** Packs skipped because a shared lock older than them is held. */
  protectedPacks: number;
  /** Manifests rewritten to point at the new packs. */
  manifestsRewritten: number;
  /** Bytes written to new packs. */
  bytesWritten: number;
  /** Bytes freed (estimated in a dry run). */
  bytesFreed: number;
  /** Temporary files of killed writers removed (would be, in a dry run), and those kept as possibly live. */
  tempFiles: { removed: number; bytes: number; kept: number };
  /** What went wrong once the work was done (the lock could not be released). */
  warnings: string[];
}

export async function garbageCollect(repo: Repository, opts: GcOptions = {}): Promise<GcReport> {
  const threshold = opts.repackBelow ?? 0.5;
  const lock = opts.dryRun ? undefined : await acquireLock(repo.driver, { kind: 'exclusive', purpose: 'gc' });
  let report: GcReport;
  try {
    opts.onStep?.('reading manifests');
    const refs = await collectRefs(repo, true, opts.signal);
    const cutoff = toMs(await oldestSharedLockStart(repo.driver));
    report = {
      dryRun: Boolean(opts.dryRun),
      snapshots: refs.snapshots.length,
      packs: 0,
      deleted: [],
      repacked: [],
      protectedPacks: 0,
      manifestsRewritten: 0,
      bytesWritten: 0,
      bytesFreed: 0,
      tempFiles: { removed: 0, bytes: 0, kept: 0 },
      warnings: [],
    };
    await removeTemporary(repo, cutoff, Boolean(opts.dryRun), report);
    for await (const o of repo.driver.list('packs/')) {
      const id = packIdFromKey(o.key);
      if (!id) continue;
      report.packs++;
      if (cutoff !== undefined && o.mtimeMs >= cutoff - 1000) {
        report.protectedPacks++;
        continue;
      }
      const live = refs.packs.get(id);
      const liveBytes = live ? [...live.values()].reduce((n, r) => n + r.length, 0) : 0;
      if (!live) report.deleted.push({ pack: id, size: o.size, liveBytes: 0 });
      else if (liveBytes < o.size * threshold) report.repacked.push({ pack: id, size: o.size, liveBytes });
    }
    const repackedLive = report.repacked.reduce((n, p) => n + p.liveBytes, 0);
    report.bytesFreed = report.deleted.reduce((n, p) => n + p.size, 0) + report.repacked.reduce((n, p) => n + p.size, 0) - repackedLive;
    if (opts.dryRun) {
      report.manifestsRewritten = countAffected(refs.packs, report.repacked);
      report.bytesWritten = repackedLive;
      return report;
    }
    if (report.repacked.length > 0) {
      opts.onStep?.(`repacking ${report.repacked.length} pack(s)`);
      const written = await repack(repo, refs.packs, report.repacked, refs.snapshots, opts);
      report.manifestsRewritten = written.manifests;
      report.bytesWritten = written.bytes;
      report.bytesFreed = report.deleted.reduce((n, p) => n + p.size, 0) + report.repacked.reduce((n, p) => n + p.size, 0) - written.bytes;
    }
    opts.onStep?.(`deleting ${report.deleted.length + report.repacked.length} pack(s)`);
    for (const p of [...report.deleted, ...report.repacked]) {
      opts.signal?.throwIfAborted();
      await repo.driver.delete(packKey(p.pack));
    }
  } catch (e) {
    await cleanUpAfter(e, 'releasing the repository lock', async () => lock?.release()); // a failed release never hides e
    throw e;
  }
  // The packs are gone: a lock left behind is a warning, not a failed gc.
  if (lock)
    await releaseAfterSuccess(
      `releasing the repository lock ${lock.id}`,
      () => lock.release(),
      (m) => report.warnings.push(m),
    );
  return report;
}

/** Temporary files no running writer can own: counted (dry run) or removed. */
async function removeTemporary(repo: Repository, cutoff: number | undefined, dryRun: boolean, report: GcReport): Promise<void> {
  const now = Date.now();
  for (const t of await listTemporary(repo.driver)) {
    if (!removableTemporary(t, now, cutoff)) {
      report.tempFiles.kept++;
      continue;
    }
    if (!dryRun) await repo.driver.deleteTemporary!(t);
    report.tempFiles.removed++;
    report.tempFiles.bytes += t.size;
  }
}

function toMs(t: unknown): number | undefined {
  if (t === undefined || t === null) return undefined;
  if (t instanceof Date) return t.getTime();
  if (typeof t === 'number') return t;
  if (typeof t === 'string') return Date.parse(t);
  return undefined;
}

function countAffected(packs: Map<string, Map<number, BlobRef>>, repacked: GcPackAction[]): number {
  const users = new Set<number>();
  for (const p of repacked) for (const r of packs.get(p.pack)?.values() ?? []) for (const u of r.users) users.add(u);
  return users.size;
}

/** The pack index entry of a copied blob: the refs' facts, or for a delta blob the old pack's index entry. */
function indexEntryOf(
  ref: BlobRef,
  at: { pack: string; offset: number },
  index: Map<number, PackIndexEntry> | undefined,
): Omit<PackIndexEntry, 'offset' | 'length'> {
  if (ref.kind !== BLOB_KIND_DELTA) return { rawLength: ref.rawLength, kind: ref.kind, sha256: ref.sha256 };
  const e = index?.get(at.offset);
  if (!e || e.kind !== BLOB_KIND_DELTA || e.length !== ref.length) {
    throw new Error(`the index of ${packKey(at.pack)} has no delta blob of ${ref.length} bytes at offset ${at.offset}`);
  }
  return { rawLength: e.rawLength, kind: e.kind, sha256: e.sha256 };
}

/** A chunk reference (and its base) after the repack moved blobs. */
function movedChunk(c: ChunkRef, moved: Map<string, Map<number, Locator>>): ChunkRef {
  const to = moved.get(c.pack)?.get(c.packOffset);
  const out = to ? { ...c, pack: to.pack, packOffset: to.offset, length: to.length } : c;
  const base = c.base;
  const b = base && moved.get(base.pack)?.get(base.packOffset);
  return base && b ? { ...out, base: { ...base, pack: b.pack, packOffset: b.offset, length: b.length } } : out;
}

async function repack(
  repo: Repository,
  packs: Map<string, Map<number, BlobRef>>,
  repacked: GcPackAction[],
  snapshots: { cluster: string; id: string }[],
  opts: GcOptions,
): Promise<{ manifests: number; bytes: number }> {
  const writer = new PackWriter(repo.driver, repo.codec, repo.key, repo.packSize, opts.signal);
  const moved = new Map<string, Map<number, Locator>>();
  const users = new Set<number>();
  const rewritten: SnapshotManifest[] = [];
  try {
    // 1. Copy live chunk blobs as they are (still compressed and encrypted) into new packs.
    //    File lists are not copied: every manifest that uses a repacked pack gets new ones.
    for (const p of repacked) {
      const live = [...packs.get(p.pack)!.entries()].sort((a, b) => a[0] - b[0]);
      const map = new Map<number, Locator>();
      moved.set(p.pack, map);
      // a delta blob's plaintext length and hash are in the pack's index only
      const index = live.some(([, r]) => r.kind === BLOB_KIND_DELTA)
        ? new Map((await readPackIndex(repo.driver, repo.key, p.pack, p.size)).entries.map((e) => [e.offset, e]))
        : undefined;
      for (const [offset, ref] of live) {
        for (const u of ref.users) users.add(u);
        if (ref.kind === BLOB_KIND_FILE_LIST) continue;
        const blob = await fetchPackRange(repo.driver, { pack: p.pack, offset, length: ref.length, context: 'gc repack' });
        map.set(offset, await writer.append(blob, indexEntryOf(ref, { pack: p.pack, offset }, index)));
      }
    }
    // 2. New file lists for every affected manifest, in the same new packs.
    for (const u of [...users].sort((a, b) => a - b)) {
      const { cluster, id } = snapshots[u]!;
      const snap = new Snapshot(repo, await repo.readManifest(cluster, id));
      const parts: FileListPart[] = [];
      for (const part of snap.manifest.parts) {
        const records: FileRecord[] = (await snap.readPart(part)).map((r) => ({
          ...r,
          chunks: r.chunks.map((c) => movedChunk(c, moved)),
        }));
        const json = encodePart(records);
        const hash = sha256(json).toString('hex');
        const locator = await writer.append(encodeBlob(repo.codec, repo.key, json), {
          rawLength: json.length,
          kind: BLOB_KIND_FILE_LIST,
          sha256: hash,
        });
        parts.push({ ...part, locator, sha256: hash });
      }
      rewritten.push({ ...snap.manifest, parts });
    }
    await writer.finish();
  } catch (e) {
    await writer.abort(); // nothing points at the new packs yet
    if (e instanceof PgkeepError) throw e;
    throw new PgkeepError('REPOSITORY', `gc could not repack: ${(e as Error).message}`, { cause: e });
  }
  {
    // 3. Replace the manifests (atomic puts); only then may the old packs go.
    for (const m of rewritten) {
      const name = manifestName(m.cluster, m.id);
      const before = await statObject(repo, name);
      const { key } = await putObject(repo, name, Buffer.from(JSON.stringify(m), 'utf8'));
      if (before && before.key !== key) await repo.driver.delete(before.key);
    }
    return { manifests: rewritten.length, bytes: writer.blobBytes };
  }
}

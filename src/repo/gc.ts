/**
 * Garbage collection under the exclusive lock: mark every blob referenced by a live manifest,
 * delete packs nothing references, and repack packs that are mostly unreferenced (copy their
 * live blobs to a new pack, rewrite the manifests that point at them, then delete the old
 * packs). Packs newer than the oldest shared lock still held are never touched. Temporary files
 * of killed writers are removed when no running writer can own them (temp-files.ts).
 * Order of writes keeps every step crash-safe: new packs, then manifests, then deletions.
 * Memory does not grow with the number of blobs: the references are sorted through temporary
 * files (refs.ts) and walked pack by pack; a repack of many blobs works in batches (live-blobs.ts),
 * each batch its own new packs, manifests and deletions.
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from './repository.js';
import { acquireLock, oldestSharedLockStart } from './locks.js';
import { collectRefs, type BlobRef, type RefSet } from './refs.js';
import { liveByPack, repackBatches, REPACK_BATCH_BLOBS, usersOf } from './live-blobs.js';
import { MovedBlobs } from './moved-blobs.js';
import { packIdFromKey, packKey, BLOB_KIND_FILE_LIST } from './pack-format.js';
import { readPackIndex } from './pack-reader.js';
import { PackWriter } from './pack-writer.js';
import { fetchPackRange } from './blob-reader.js';
import { encodeBlob, sha256 } from './blob.js';
import { encodePart, manifestName, type FileListPart, type FileRecord, type SnapshotManifest } from './manifest.js';
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
  /** Blob references held in memory before a sorted run goes to a temporary file (tests make it small). */
  refBudget?: number;
  /** Live blobs copied per repack batch (tests make it small). */
  repackBatchBlobs?: number;
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
    const refs = await collectRefs(repo, true, { signal: opts.signal, budget: opts.refBudget });
    try {
      report = await sweep(repo, refs, threshold, opts);
    } finally {
      await refs.close();
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

/** Decide pack by pack from the live references, then repack and delete (unless a dry run). */
async function sweep(repo: Repository, refs: RefSet, threshold: number, opts: GcOptions): Promise<GcReport> {
  const cutoff = toMs(await oldestSharedLockStart(repo.driver));
  const report: GcReport = {
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
  const live = await liveByPack(refs, opts.signal);
  for await (const o of repo.driver.list('packs/')) {
    const id = packIdFromKey(o.key);
    if (!id) continue;
    report.packs++;
    if (cutoff !== undefined && o.mtimeMs >= cutoff - 1000) {
      report.protectedPacks++;
      continue;
    }
    const l = live.get(id);
    if (!l) report.deleted.push({ pack: id, size: o.size, liveBytes: 0 });
    else if (l.bytes < o.size * threshold) report.repacked.push({ pack: id, size: o.size, liveBytes: l.bytes });
  }
  const repackedLive = report.repacked.reduce((n, p) => n + p.liveBytes, 0);
  const gone = report.deleted.reduce((n, p) => n + p.size, 0) + report.repacked.reduce((n, p) => n + p.size, 0);
  report.bytesFreed = gone - repackedLive;
  if (opts.dryRun) {
    report.manifestsRewritten = (await usersOf(refs, new Set(report.repacked.map((p) => p.pack)))).size;
    report.bytesWritten = repackedLive;
    return report;
  }
  if (report.repacked.length > 0) {
    opts.onStep?.(`repacking ${report.repacked.length} pack(s)`);
    const rewritten = new Set<number>();
    for (const batch of repackBatches(report.repacked, live, opts.repackBatchBlobs ?? REPACK_BATCH_BLOBS)) {
      const written = await repack(repo, refs, batch, opts);
      for (const u of written.users) rewritten.add(u);
      report.bytesWritten += written.bytes;
      // the manifests point at the new packs: the batch's old packs may go
      for (const p of batch) {
        opts.signal?.throwIfAborted();
        await repo.driver.delete(packKey(p.pack));
      }
    }
    report.manifestsRewritten = rewritten.size;
    report.bytesFreed = gone - report.bytesWritten;
  }
  opts.onStep?.(`deleting ${report.deleted.length} unreferenced pack(s)`);
  for (const p of report.deleted) {
    opts.signal?.throwIfAborted();
    await repo.driver.delete(packKey(p.pack));
  }
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

/** The pack index entry of a copied blob, from the old pack's index (gc does not keep the manifests' hashes). */
function indexEntryOf(
  ref: BlobRef,
  at: { pack: string; offset: number },
  index: Map<number, PackIndexEntry>,
): Omit<PackIndexEntry, 'offset' | 'length'> {
  const e = index.get(at.offset);
  if (!e || e.kind !== ref.kind || e.length !== ref.length) {
    throw new Error(`the index of ${packKey(at.pack)} has no blob of ${ref.length} bytes at offset ${at.offset}; run "pgkeep repo check"`);
  }
  return { rawLength: e.rawLength, kind: e.kind, sha256: e.sha256 };
}

async function repack(
  repo: Repository,
  refs: RefSet,
  repacked: GcPackAction[],
  opts: GcOptions,
): Promise<{ users: Set<number>; bytes: number }> {
  const writer = new PackWriter(repo.driver, repo.codec, repo.key, repo.packSize, opts.signal);
  const moved = new MovedBlobs();
  const users = new Set<number>();
  const rewritten: SnapshotManifest[] = [];
  const sizes = new Map(repacked.map((p) => [p.pack, p.size]));
  try {
    // 1. Copy live chunk blobs as they are (still compressed and encrypted) into new packs, pack
    //    by pack in offset order as the references walk them. File lists are not copied: every
    //    manifest that uses a repacked pack gets new ones.
    let index: { pack: string; entries: Map<number, PackIndexEntry> } = { pack: '', entries: new Map() };
    for await (const ref of refs.blobs()) {
      const size = sizes.get(ref.pack);
      if (size === undefined) continue;
      opts.signal?.throwIfAborted();
      for (const u of ref.users) users.add(u);
      if (ref.kind === BLOB_KIND_FILE_LIST) continue;
      if (index.pack !== ref.pack) {
        const { entries } = await readPackIndex(repo.driver, repo.key, ref.pack, size);
        index = { pack: ref.pack, entries: new Map(entries.map((e) => [e.offset, e])) };
      }
      const { pack, offset } = ref;
      const blob = await fetchPackRange(repo.driver, { pack, offset, length: ref.length, context: 'gc repack' });
      moved.add(pack, offset, await writer.append(blob, indexEntryOf(ref, { pack, offset }, index.entries)));
    }
    // 2. New file lists for every affected manifest, in the same new packs.
    for (const u of [...users].sort((a, b) => a - b)) {
      const { cluster, id } = refs.snapshots[u]!;
      const snap = new Snapshot(repo, await repo.readManifest(cluster, id));
      const parts: FileListPart[] = [];
      for (const part of snap.manifest.parts) {
        const records: FileRecord[] = (await snap.readPart(part)).map((r) => ({
          ...r,
          chunks: r.chunks.map((c) => moved.chunk(c)),
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
  // 3. Replace the manifests (atomic puts); only then may the old packs go.
  for (const m of rewritten) {
    const name = manifestName(m.cluster, m.id);
    const before = await statObject(repo, name);
    const { key } = await putObject(repo, name, Buffer.from(JSON.stringify(m), 'utf8'));
    if (before && before.key !== key) await repo.driver.delete(before.key);
  }
  return { users, bytes: writer.blobBytes };
}

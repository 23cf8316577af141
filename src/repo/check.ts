/**
 * `repo check`: every manifest and file list decodes, every locator points into an existing
 * pack within its blob area and matches the pack's index; with readData every blob is read,
 * authenticated, decompressed and its SHA-256 compared. Each damaged object is reported with
 * the snapshots (and some files) it affects. The archived WAL is checked one layer up, by
 * holdings/repository-check.ts (`pgkeep repo check` runs both): repo/ knows nothing about WAL.
 * Memory does not grow with the number of blobs: the references are sorted through temporary
 * files (refs.ts) and compared with each pack's index pack by pack; who uses a damaged blob is
 * found by one more walk of the manifests (damage-names.ts), only when something is damaged.
 */
import type { Repository } from './repository.js';
import { collectRefs, type BlobRef, type Damage, type RefSet } from './refs.js';
import { nameAffected, type DamageTarget } from './damage-names.js';
import type { ChunkRef } from './manifest.js';
import { BLOB_KIND_DELTA, packIdFromKey, packKey, type PackIndexEntry } from './pack-format.js';
import { readDeltaChunk } from './delta-reader.js';
import { readPackIndex } from './pack-reader.js';
import { decodeInPool, fetchPackRange } from './blob-reader.js';
import type { ObjectInfo } from './storage/driver.js';
import { listTemporary, summarizeTemporary, type TempFilesSummary } from './temp-files.js';
import { oldestSharedLockStart } from './locks.js';

export interface CheckOptions {
  readData?: boolean;
  signal?: AbortSignal;
  /** Blob references held in memory before a sorted run goes to a temporary file (tests make it small). */
  refBudget?: number;
  /** Progress: packs done of total. */
  onProgress?: (done: number, total: number, what: 'packs') => void;
}

export interface CheckReport {
  ok: boolean;
  snapshots: number;
  packs: number;
  /** Blobs referenced by snapshots. */
  blobs: number;
  /** Blobs whose data was read and verified (readData). */
  blobsRead: number;
  /** Delta chunks rebuilt from their base and verified against the file record's SHA-256 (readData). */
  deltasRebuilt: number;
  bytesRead: number;
  unreferencedPacks: number;
  /** Temporary files left by interrupted writers (not damage: `repo gc` removes the old ones). */
  tempFiles: TempFilesSummary;
  damaged: Damage[];
}

const READ_GROUP = 8 * 1024 * 1024;
/** Blobs verified at once (a pack of tiny blobs must not put thousands in flight). */
const READ_GROUP_BLOBS = 256;

export async function checkRepository(repo: Repository, opts: CheckOptions = {}): Promise<CheckReport> {
  const refs = await collectRefs(repo, false, { signal: opts.signal, hashes: true, deltas: opts.readData, budget: opts.refBudget });
  try {
    return await checkAgainst(repo, refs, opts);
  } finally {
    await refs.close();
  }
}

async function checkAgainst(repo: Repository, refs: RefSet, opts: CheckOptions): Promise<CheckReport> {
  const damaged: Damage[] = [...refs.damage];
  const packs = new Map<string, ObjectInfo>();
  for await (const o of repo.driver.list('packs/')) {
    const id = packIdFromKey(o.key);
    if (id) packs.set(id, o);
  }
  const unreferenced = [...packs.keys()].filter((p) => !refs.uses(p)).sort();
  const report: CheckReport = {
    ok: true,
    snapshots: refs.snapshots.length,
    packs: packs.size,
    blobs: 0,
    blobsRead: 0,
    deltasRebuilt: 0,
    bytesRead: 0,
    unreferencedPacks: unreferenced.length,
    damaged,
    tempFiles: await temporarySummary(repo),
  };
  const targets: DamageTarget[] = [];
  const total = refs.packs.length + (opts.readData ? unreferenced.length : 0);
  let done = 0;
  for await (const { pack, blobs } of refs.byPack()) {
    opts.signal?.throwIfAborted();
    await checkPack(repo, pack, packs.get(pack), blobs, opts, report, targets);
    opts.onProgress?.(++done, total, 'packs');
  }
  if (opts.readData) {
    for (const id of unreferenced) {
      opts.signal?.throwIfAborted();
      await checkPack(repo, id, packs.get(id), noBlobs(), opts, report, targets);
      opts.onProgress?.(++done, total, 'packs');
    }
    await rebuildDeltas(repo, refs, opts, report, targets);
  }
  // who uses the damaged blobs: one more walk of the manifests, only when something is damaged
  await nameAffected(repo, refs.snapshots, targets, opts.signal);
  report.ok = damaged.length === 0;
  return report;
}

async function* noBlobs(): AsyncGenerator<BlobRef> {}

/** Report damage to blobs of `pack` starting at offsets from..to-1 (their users are named at the end). */
function reportDamage(
  report: CheckReport,
  targets: DamageTarget[],
  at: { pack: string; from: number; to: number; offset?: number },
  problem: string,
): void {
  const damage: Damage = { object: packKey(at.pack), ...(at.offset === undefined ? {} : { offset: at.offset }), problem, snapshots: [] };
  report.damaged.push(damage);
  targets.push({ damage, pack: at.pack, from: at.from, to: at.to });
}

/** Rebuild every delta chunk from its base and check the rebuilt chunk's SHA-256 (what a restore would do). */
async function rebuildDeltas(
  repo: Repository,
  refs: RefSet,
  opts: CheckOptions,
  report: CheckReport,
  targets: DamageTarget[],
): Promise<void> {
  const rebuild = (batch: ChunkRef[]) =>
    Promise.all(
      batch.map(async (c) => {
        try {
          await readDeltaChunk(repo, c);
          report.deltasRebuilt++;
        } catch (e) {
          const problem = `delta chunk cannot be rebuilt: ${(e as Error).message.replace(/^damaged data in pack \S+ at offset \d+( \([^)]*\))?: /, '')}`;
          reportDamage(report, targets, { pack: c.pack, from: c.packOffset, to: c.packOffset + 1, offset: c.packOffset }, problem);
        }
      }),
    );
  const window = repo.jobs * 2;
  let batch: ChunkRef[] = [];
  for await (const c of refs.deltas()) {
    batch.push(c);
    if (batch.length < window) continue;
    opts.signal?.throwIfAborted();
    await rebuild(batch);
    batch = [];
  }
  await rebuild(batch);
}

/** The pack against the references to it (in offset order), and with readData every blob of it. */
async function checkPack(
  repo: Repository,
  id: string,
  info: ObjectInfo | undefined,
  blobs: AsyncGenerator<BlobRef>,
  opts: CheckOptions,
  report: CheckReport,
  targets: DamageTarget[],
): Promise<void> {
  const whole = { pack: id, from: 0, to: Number.POSITIVE_INFINITY };
  const count = async () => {
    let n = 0;
    for await (const _ of blobs) n++;
    report.blobs += n;
    return n;
  };
  if (!info) {
    await count();
    reportDamage(report, targets, whole, 'the pack is missing');
    return;
  }
  let entries: PackIndexEntry[];
  let indexOffset: number;
  try {
    ({ entries, indexOffset } = await readPackIndex(repo.driver, repo.key, id, info.size));
  } catch (e) {
    if ((await count()) > 0 || opts.readData) reportDamage(report, targets, whole, (e as Error).message);
    return;
  }
  // both in offset order: walk them side by side (no map of a pack's entries)
  let i = 0;
  for await (const ref of blobs) {
    report.blobs++;
    const { offset } = ref;
    while (i < entries.length && entries[i]!.offset < offset) i++;
    const e = entries[i]?.offset === offset ? entries[i] : undefined;
    let problem: string | undefined;
    if (offset + ref.length > indexOffset) problem = `locator (offset ${offset}, length ${ref.length}) points past the pack's blob area`;
    else if (!e) problem = `no blob starts at offset ${offset} in the pack's index`;
    else if (e.length !== ref.length || (ref.kind === BLOB_KIND_DELTA ? e.kind !== ref.kind : e.sha256 !== ref.sha256))
      problem = `the pack's index disagrees with the manifest about the blob at offset ${offset}`;
    if (problem) reportDamage(report, targets, { pack: id, from: offset, to: offset + 1, offset }, problem);
  }
  if (opts.readData) await readAll(repo, id, entries, opts, report, targets);
}

/** Read every blob of the pack in large range reads and verify each in the worker pool. */
async function readAll(
  repo: Repository,
  id: string,
  entries: PackIndexEntry[],
  opts: CheckOptions,
  report: CheckReport,
  targets: DamageTarget[],
): Promise<void> {
  let i = 0;
  while (i < entries.length) {
    opts.signal?.throwIfAborted();
    const group: PackIndexEntry[] = [entries[i++]!];
    let end = group[0]!.offset + group[0]!.length;
    while (
      i < entries.length &&
      group.length < READ_GROUP_BLOBS &&
      entries[i]!.offset + entries[i]!.length - group[0]!.offset <= READ_GROUP
    ) {
      end = entries[i]!.offset + entries[i]!.length;
      group.push(entries[i++]!);
    }
    const start = group[0]!.offset;
    let buf: Buffer;
    try {
      buf = await fetchPackRange(repo.driver, { pack: id, offset: start, length: end - start });
    } catch (e) {
      reportDamage(report, targets, { pack: id, from: start, to: end, offset: start }, (e as Error).message);
      continue;
    }
    report.bytesRead += buf.length;
    await Promise.all(
      group.map(async (g) => {
        const slice = buf.subarray(g.offset - start, g.offset - start + g.length);
        try {
          await decodeInPool(repo.pool(), slice, g.sha256, g.rawLength, { pack: id, offset: g.offset, length: g.length }, true);
          report.blobsRead++;
        } catch (e) {
          const reason = (e as Error).message.replace(/^damaged data in pack \S+ at offset \d+: /, '');
          reportDamage(report, targets, { pack: id, from: g.offset, to: g.offset + 1, offset: g.offset }, reason);
        }
      }),
    );
  }
}

/** Temporary files of writers, and how many `repo gc` would remove now. */
export async function temporarySummary(repo: Repository): Promise<TempFilesSummary> {
  const cutoff = await oldestSharedLockStart(repo.driver);
  return summarizeTemporary(await listTemporary(repo.driver), Date.now(), cutoff?.getTime());
}

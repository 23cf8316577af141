/**
 * `repo check`: every manifest and file list decodes, every locator points into an existing
 * pack within its blob area and matches the pack's index; with readData every blob is read,
 * authenticated, decompressed and its SHA-256 compared. Each damaged object is reported with
 * the snapshots (and some files) it affects. The archived WAL is checked one layer up, by
 * holdings/repository-check.ts (`pgkeep repo check` runs both): repo/ knows nothing about WAL.
 */
import type { Repository } from './repository.js';
import { collectRefs, label, type BlobRef, type Damage, type RefSet } from './refs.js';
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
const MAX_FILES = 5;

export async function checkRepository(repo: Repository, opts: CheckOptions = {}): Promise<CheckReport> {
  const refs = await collectRefs(repo, false, opts.signal);
  const damaged: Damage[] = [...refs.damage];
  const packs = new Map<string, ObjectInfo>();
  for await (const o of repo.driver.list('packs/')) {
    const id = packIdFromKey(o.key);
    if (id) packs.set(id, o);
  }
  const report: CheckReport = {
    ok: true,
    snapshots: refs.snapshots.length,
    packs: packs.size,
    blobs: 0,
    blobsRead: 0,
    deltasRebuilt: 0,
    bytesRead: 0,
    unreferencedPacks: [...packs.keys()].filter((p) => !refs.packs.has(p)).length,
    damaged,
    tempFiles: await temporarySummary(repo),
  };
  const ids = [...packs.keys()].filter((p) => refs.packs.has(p) || opts.readData).sort();
  for (const id of refs.packs.keys()) if (!packs.has(id)) ids.push(id);
  let done = 0;
  for (const id of ids) {
    opts.signal?.throwIfAborted();
    const used = refs.packs.get(id) ?? new Map<number, BlobRef>();
    report.blobs += used.size;
    await checkPack(repo, refs, id, packs.get(id), used, opts, report);
    opts.onProgress?.(++done, ids.length, 'packs');
  }
  if (opts.readData) await rebuildDeltas(repo, refs, opts, report);
  report.ok = damaged.length === 0;
  return report;
}

/** Rebuild every delta chunk from its base and check the rebuilt chunk's SHA-256 (what a restore would do). */
async function rebuildDeltas(repo: Repository, refs: RefSet, opts: CheckOptions, report: CheckReport): Promise<void> {
  const deltas: BlobRef[] = [];
  for (const blobs of refs.packs.values()) for (const r of blobs.values()) if (r.delta) deltas.push(r);
  const window = repo.jobs * 2;
  for (let i = 0; i < deltas.length; i += window) {
    opts.signal?.throwIfAborted();
    await Promise.all(
      deltas.slice(i, i + window).map(async (r) => {
        const c = r.delta!;
        try {
          await readDeltaChunk(repo, c, r.path ? `file "${r.path}"` : undefined);
          report.deltasRebuilt++;
        } catch (e) {
          const problem = `delta chunk cannot be rebuilt: ${(e as Error).message.replace(/^damaged data in pack \S+ at offset \d+( \([^)]*\))?: /, '')}`;
          report.damaged.push({ object: packKey(c.pack), offset: c.packOffset, problem, ...affected(refs, [r]) });
        }
      }),
    );
  }
}

function affected(refs: RefSet, refsList: BlobRef[]): Pick<Damage, 'snapshots' | 'files'> {
  const users = new Set<number>();
  const files = new Set<string>();
  for (const r of refsList) {
    for (const u of r.users) users.add(u);
    if (r.path && files.size < MAX_FILES) files.add(r.path);
  }
  const snapshots = [...users].sort((a, b) => a - b).map((u) => label(refs.snapshots[u]!));
  return files.size ? { snapshots, files: [...files] } : { snapshots };
}

async function checkPack(
  repo: Repository,
  refs: RefSet,
  id: string,
  info: ObjectInfo | undefined,
  used: Map<number, BlobRef>,
  opts: CheckOptions,
  report: CheckReport,
): Promise<void> {
  const object = packKey(id);
  if (!info) {
    report.damaged.push({ object, problem: 'the pack is missing', ...affected(refs, [...used.values()]) });
    return;
  }
  let entries: PackIndexEntry[];
  let indexOffset: number;
  try {
    ({ entries, indexOffset } = await readPackIndex(repo.driver, repo.key, id, info.size));
  } catch (e) {
    if (used.size > 0 || opts.readData) {
      report.damaged.push({ object, problem: (e as Error).message, ...affected(refs, [...used.values()]) });
    }
    return;
  }
  const byOffset = new Map(entries.map((e) => [e.offset, e]));
  for (const [offset, ref] of used) {
    const e = byOffset.get(offset);
    let problem: string | undefined;
    if (offset + ref.length > indexOffset) problem = `locator (offset ${offset}, length ${ref.length}) points past the pack's blob area`;
    else if (!e) problem = `no blob starts at offset ${offset} in the pack's index`;
    else if (e.length !== ref.length || (ref.kind === BLOB_KIND_DELTA ? e.kind !== ref.kind : e.sha256 !== ref.sha256))
      problem = `the pack's index disagrees with the manifest about the blob at offset ${offset}`;
    if (problem) report.damaged.push({ object, offset, problem, ...affected(refs, [ref]) });
  }
  if (opts.readData) await readAll(repo, refs, id, entries, used, opts, report);
}

/** Read every blob of the pack in large range reads and verify each in the worker pool. */
async function readAll(
  repo: Repository,
  refs: RefSet,
  id: string,
  entries: PackIndexEntry[],
  used: Map<number, BlobRef>,
  opts: CheckOptions,
  report: CheckReport,
): Promise<void> {
  const object = packKey(id);
  let i = 0;
  while (i < entries.length) {
    opts.signal?.throwIfAborted();
    const group: PackIndexEntry[] = [entries[i++]!];
    let end = group[0]!.offset + group[0]!.length;
    while (i < entries.length && entries[i]!.offset + entries[i]!.length - group[0]!.offset <= READ_GROUP) {
      end = entries[i]!.offset + entries[i]!.length;
      group.push(entries[i++]!);
    }
    const start = group[0]!.offset;
    let buf: Buffer;
    try {
      buf = await fetchPackRange(repo.driver, { pack: id, offset: start, length: end - start });
    } catch (e) {
      const refsList = group.map((g) => used.get(g.offset)).filter((r): r is BlobRef => Boolean(r));
      report.damaged.push({ object, offset: start, problem: (e as Error).message, ...affected(refs, refsList) });
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
          const ref = used.get(g.offset);
          const reason = (e as Error).message.replace(/^damaged data in pack \S+ at offset \d+: /, '');
          report.damaged.push({ object, offset: g.offset, problem: reason, ...affected(refs, ref ? [ref] : []) });
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

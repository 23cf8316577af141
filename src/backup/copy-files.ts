/**
 * Step "copy" (local and cold): store the listed entries with N parallel readers. Directories and
 * symlinks are recorded first; files go largest first (copyOrder) so the readers finish together. A file
 * whose size and mtime equal the previous backup's record, and that was last modified well
 * before this backup started, is reused without reading (unless checksumAll); every other file is
 * read and cut into chunks, and the repository keeps chunks equal to the previous backup's.
 */
import { open } from 'node:fs/promises';
import { PgkeepError } from '../errors.js';
import { largestFirstByPath, type FileEntry, type FileRecord, type SnapshotWriter } from '../repo/index.js';
import { relationFileOf } from './exclusions.js';
import type { SourceFile } from './file-list.js';
import { dataFileReader, type PageCheckSettings, type ReadFileStats } from './read-file.js';
import type { CopyReport } from './types.js';
import { storeChangedChunks } from './changed-chunks.js';
import type { FilePlan } from './unchanged-files.js';

export interface CopyFilesOptions {
  writer: SnapshotWriter;
  entries: SourceFile[];
  jobs: number;
  /** Reuse unchanged files of the previous backup: only those with mtime before this (ms). */
  reuseBefore?: number;
  /** Verify page checksums (cluster with data checksums). */
  pages?: PageCheckSettings;
  /** What the WAL summaries let us skip of a file (local on 17+; unchanged-files.ts); no plan: as without. */
  plan?: (f: SourceFile) => Promise<FilePlan>;
  /** Repository chunk size (needed with `plan`). */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Bytes read or reused so far, files done so far. */
  onProgress?: (bytes: number, files: number) => void;
}

/** Timestamp resolution margin: a file changed within this much before the start is read anyway. */
export const MTIME_MARGIN_MS = 2000;

export async function copyFiles(o: CopyFilesOptions): Promise<CopyReport> {
  const report: CopyReport = { files: 0, bytes: 0, reusedFiles: 0, vanished: [], pagesChecked: 0, checksumFailures: [] };
  let bytesRead = 0;
  let skipped = 0;
  let patched = 0;
  let filesDone = 0;
  const tick = (n: number) => {
    report.bytes += n;
    o.onProgress?.(report.bytes, filesDone);
  };

  for (const e of o.entries) {
    if (e.type === 'file') continue;
    await o.writer.addFile(entryOf(e));
    report.files++;
  }

  const files = copyOrder(o.entries);
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < files.length && !failed) {
      const f = files[next++]!;
      try {
        await copyOne(f);
      } catch (e) {
        failed ??= e;
      }
    }
  };

  // Content kept per the WAL summaries is the file as of this backup's start, not as read now: its
  // record gets the file's mtime only if the file was last written before the start, else one the
  // next backup's size-and-mtime rule cannot match (a write after the start must be read then).
  const keptMtime = (mtimeMs: number) => (o.reuseBefore !== undefined && mtimeMs < o.reuseBefore ? mtimeMs : mtimeMs - 1);

  const reuse = (f: SourceFile, prev: FileRecord, fromSummaries: boolean) => {
    const { absPath: _abs, ...meta } = f;
    o.writer.reuseFile(prev, fromSummaries ? { ...meta, mtimeMs: keptMtime(f.mtimeMs) } : meta);
    report.files++;
    report.reusedFiles++;
    filesDone++;
    tick(f.size);
  };

  const copyOne = async (f: SourceFile): Promise<void> => {
    o.signal?.throwIfAborted();
    const plan: FilePlan = (await o.plan?.(f)) ?? { kind: 'read' };
    if (plan.kind === 'reuse') {
      skipped++;
      return reuse(f, plan.previous, true);
    }
    const prev = o.reuseBefore !== undefined && plan.kind === 'read' ? await o.writer.previousFile(f.path) : undefined;
    if (prev && prev.type === 'file' && prev.size === f.size && prev.mtimeMs === f.mtimeMs && f.mtimeMs < o.reuseBefore!)
      return reuse(f, prev, false);
    let fh;
    try {
      fh = await open(f.absPath, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        report.vanished.push(f.path); // dropped (a table, a temp file...) after the listing
        return;
      }
      throw new PgkeepError(code === 'EACCES' ? 'CONFIG' : 'INTERNAL', `cannot open ${f.absPath}: ${(e as Error).message}`, {
        hint: 'run pgkeep as the OS user that owns the data directory (usually postgres)',
        cause: e,
      });
    }
    try {
      const st = await fh.stat();
      const rel = o.pages ? relationFileOf(f.path) : undefined;
      const stats: ReadFileStats = { bytes: 0, pagesChecked: 0, failures: [], shrunk: false };
      const reading = {
        path: f.path,
        ...(rel && o.pages ? { pages: { ...o.pages, segment: rel.segment } } : {}),
        signal: o.signal,
        onBytes: (n: number) => {
          bytesRead += n;
          tick(n);
        },
      };
      const entry = { ...entryOf(f), size: st.size, mtimeMs: st.mtimeMs };
      if (plan.kind === 'patch' && st.size === f.size) {
        // planned for the listed size; else read it all
        const record = await storeChangedChunks(
          o.writer,
          fh,
          { ...entry, mtimeMs: keptMtime(st.mtimeMs) },
          plan.previous,
          plan.read,
          o.chunkSize!,
          reading,
          stats,
        );
        tick(record.size - stats.bytes);
        patched++;
      } else {
        await o.writer.addFile(entry, dataFileReader(fh, { ...reading, size: st.size }, stats));
      }
      report.files++;
      filesDone++;
      report.pagesChecked += stats.pagesChecked;
      report.checksumFailures.push(...stats.failures.sort((a, b) => a.blockInFile - b.blockInFile));
      if (stats.shrunk) report.vanished.push(f.path);
    } finally {
      await fh.close();
    }
  };

  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, files.length)) }, worker));
  if (failed) throw failed;
  return { ...report, bytesRead, ...(o.plan ? { skippedBySummaries: skipped, patchedBySummaries: patched } : {}) };
}

/** Files largest first, so the readers finish together; in path order within a size class (previous snapshot read part by part). */
export function copyOrder(entries: readonly SourceFile[]): SourceFile[] {
  return entries.filter((e) => e.type === 'file').sort(largestFirstByPath);
}

function entryOf(f: SourceFile): FileEntry {
  const { absPath: _abs, ...entry } = f;
  return entry;
}

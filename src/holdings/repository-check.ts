/**
 * `pgkeep repo check`: the repository's own structure and data (repo/check.ts: manifests, file
 * lists, packs, blobs), then the archived WAL of every cluster. Counts every archived WAL file;
 * with readData reads each one back and checks it (envelope, SHA-256 or GCM tag, decompression,
 * and its content: wal-read.ts). A damaged WAL file is reported like a damaged object.
 */
import { checkRepository, type CheckOptions, type CheckReport, type Repository } from '../repo/index.js';
import { WAL_PREFIX, parseWalObjectName } from './wal-layout.js';
import type { ArchivedFile } from './wal-listing.js';
import { readArchivedFiles } from './wal-read.js';

export interface RepositoryCheckOptions extends Omit<CheckOptions, 'onProgress'> {
  /** Progress: packs, then (with readData) WAL files, done of total. */
  onProgress?: (done: number, total: number, what: 'packs' | 'WAL files') => void;
}

export interface RepositoryCheckReport extends CheckReport {
  /** Archived WAL files (segments, .partial, .history, .backup) found; read with readData. */
  walFiles: number;
  /** WAL files read and found right (readData). */
  walFilesRead: number;
}

export async function checkRepositoryAndWal(repo: Repository, opts: RepositoryCheckOptions = {}): Promise<RepositoryCheckReport> {
  const base = await checkRepository(repo, { ...opts, onProgress: opts.onProgress });
  const report: RepositoryCheckReport = { ...base, walFiles: 0, walFilesRead: 0 };
  await checkWal(repo, opts, report);
  report.ok = report.damaged.length === 0;
  return report;
}

async function checkWal(repo: Repository, opts: RepositoryCheckOptions, report: RepositoryCheckReport): Promise<void> {
  const files: { file: ArchivedFile; systemIdentifier: string }[] = [];
  for await (const o of repo.listObjects(WAL_PREFIX)) {
    const ref = parseWalObjectName(o.name);
    if (ref) files.push({ file: { object: o.name, key: o.key, file: ref.file, size: o.size }, systemIdentifier: ref.systemId });
  }
  report.walFiles = files.length;
  if (!opts.readData) return;
  const r = await readArchivedFiles(repo, files, {
    concurrency: repo.jobs,
    signal: opts.signal,
    onProgress: (d, t) => opts.onProgress?.(d, t, 'WAL files'),
  });
  report.walFilesRead = r.read;
  report.bytesRead += r.bytes;
  for (const d of r.damaged) {
    report.damaged.push({ object: d.key, problem: `WAL file ${d.file}: ${d.problem}`, snapshots: [] });
  }
}

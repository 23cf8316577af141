/**
 * `pgkeep verify <id|latest>`: read every blob of a snapshot back (each chunk's SHA-256 is checked
 * as it is read, and each file's whole SHA-256 and size against the record), then, for physical
 * backups, check what the restore will rely on: the server's backup_manifest against the stored
 * files, backup_label for hot backups, the WAL segments of a standalone backup, and for other hot
 * backups the archived WAL from start to stop segment, read back and checked (holdings/needed-wal.ts).
 */
import { withRepoLock } from '../repo/with-lock.js';
import { resolveSnapshotRef } from '../holdings/snapshot-ref.js';
import { createHash } from 'node:crypto';
import { PgkeepError } from '../errors.js';
import { withChunks, withoutChunks, type FileRecord, type Repository, type Snapshot } from '../repo/index.js';
import { parseLsn } from '../pg/lsn.js';
import { parseBackupManifest, verifyManifestEntries, type StoredFileFacts } from '../pg/protocol/index.js';
import { readDumpMeta, readPhysicalMeta } from '../holdings/index.js';
import { walRange } from '../pg/wal/range.js';
import { checkNeededWal, needsArchivedWal } from '../holdings/needed-wal.js';

export interface VerifyOptions {
  jobs?: number;
  signal?: AbortSignal;
  onProgress?: (p: { bytesDone: number; bytesTotal: number; filesDone: number; filesTotal: number }) => void;
}

export interface VerifyProblem {
  path: string;
  problem: string;
}

export interface VerifyReport {
  cluster: string;
  id: string;
  kind: string;
  ok: boolean;
  files: number;
  bytes: number;
  chunks: number;
  problems: VerifyProblem[];
  /** Files compared with the server's backup_manifest (stream backups). */
  manifestFilesChecked?: number;
  /** WAL segments of a standalone backup found complete. */
  walSegmentsChecked?: number;
  /** Archived WAL segments the backup needs to become consistent, read back and checked (hot, not standalone). */
  archivedWal?: { from: string; to: string; segments: number; ok: number };
  seconds: number;
}

export async function verifyBackup(repo: Repository, cluster: string, id: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  // A shared lock keeps `repo gc` from repacking the packs while they are read.
  return withRepoLock(repo, 'shared', 'verify', cluster, () => verifyUnlocked(repo, cluster, id, opts));
}

async function verifyUnlocked(repo: Repository, cluster: string, id: string, opts: VerifyOptions): Promise<VerifyReport> {
  const began = Date.now();
  const snap = await repo.readSnapshot(cluster, await resolveSnapshotRef(repo, cluster, id, 'any'));
  // A damaged meta (physical or dump) is DATA_INTEGRITY naming the field, before any blob is read.
  if (snap.kind === 'physical') readPhysicalMeta(snap);
  else readDumpMeta(snap);
  const records: FileRecord[] = [];
  for await (const r of snap.files()) records.push(withoutChunks(r)); // chunks read back file by file
  const report: VerifyReport = {
    cluster,
    id: snap.id,
    kind: snap.kind,
    ok: true,
    files: records.length,
    bytes: 0,
    chunks: 0,
    problems: [],
    seconds: 0,
  };
  const stored = await readEverything(repo, snap, records, report, opts);
  if (snap.kind === 'physical') await checkPhysical(repo, snap, records, stored, report);
  report.ok = report.problems.length === 0;
  report.seconds = (Date.now() - began) / 1000;
  return report;
}

async function readEverything(
  repo: Repository,
  snap: Snapshot,
  records: FileRecord[],
  report: VerifyReport,
  opts: VerifyOptions,
): Promise<Map<string, StoredFileFacts>> {
  const stored = new Map<string, StoredFileFacts>();
  const files = records.filter((r) => r.type === 'file');
  const bytesTotal = files.reduce((n, r) => n + r.size, 0);
  let filesDone = 0;
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      opts.signal?.throwIfAborted();
      const r = await withChunks(snap, files[next++]!);
      const hash = createHash('sha256');
      let size = 0;
      try {
        for await (const piece of repo.readFile(snap, r, { signal: opts.signal })) {
          hash.update(piece as Buffer);
          size += (piece as Buffer).length;
          report.bytes += (piece as Buffer).length;
          opts.onProgress?.({ bytesDone: report.bytes, bytesTotal, filesDone, filesTotal: files.length });
        }
      } catch (e) {
        if (opts.signal?.aborted) throw e;
        report.problems.push({ path: r.path, problem: e instanceof PgkeepError ? e.message : String(e) });
        continue;
      } finally {
        filesDone++;
      }
      report.chunks += r.chunks.length;
      const sha = hash.digest('hex');
      if (size !== r.size) report.problems.push({ path: r.path, problem: `read ${size} bytes, the snapshot lists ${r.size}` });
      else if (r.sha256 && r.sha256 !== sha)
        report.problems.push({ path: r.path, problem: `SHA-256 ${sha} differs from the recorded ${r.sha256}` });
      stored.set(r.path, { size, sha256hex: sha });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs ?? repo.jobs, files.length || 1)) }, worker));
  return stored;
}

async function checkPhysical(
  repo: Repository,
  snap: Snapshot,
  records: FileRecord[],
  stored: Map<string, StoredFileFacts>,
  report: VerifyReport,
): Promise<void> {
  const meta = readPhysicalMeta(snap);
  const byPath = new Map(records.map((r) => [r.path, r]));
  if (meta.method !== 'cold' && !byPath.has('backup_label')) {
    report.problems.push({ path: 'backup_label', problem: 'a hot backup must contain backup_label; it is missing' });
  }
  if (!byPath.has('global/pg_control')) report.problems.push({ path: 'global/pg_control', problem: 'missing' });
  for (const t of meta.tablespaces ?? []) {
    const link = byPath.get(`pg_tblspc/${t.oid}`);
    if (!link || link.type !== 'symlink') report.problems.push({ path: `pg_tblspc/${t.oid}`, problem: 'the tablespace link is missing' });
  }
  if (meta.serverManifest) {
    const rec = byPath.get('backup_manifest');
    if (!rec) {
      report.problems.push({ path: 'backup_manifest', problem: "the server's backup_manifest is missing" });
    } else if (stored.has('backup_manifest')) {
      const chunks: Buffer[] = [];
      try {
        for await (const c of repo.readFile(snap, rec)) chunks.push(c as Buffer);
        const manifest = parseBackupManifest(Buffer.concat(chunks), { verifyChecksum: true });
        const v = verifyManifestEntries(manifest, stored);
        report.manifestFilesChecked = v.checked;
        for (const p of v.missing) report.problems.push({ path: p, problem: 'listed in backup_manifest but not stored' });
        for (const p of v.extra) report.problems.push({ path: p, problem: 'stored but not listed in backup_manifest' });
        for (const m of v.sizeMismatches)
          report.problems.push({ path: m.path, problem: `size ${m.actual}, backup_manifest says ${m.expected}` });
        for (const m of v.checksumMismatches) report.problems.push({ path: m.path, problem: `SHA-256 differs from backup_manifest's` });
      } catch (e) {
        report.problems.push({ path: 'backup_manifest', problem: (e as Error).message });
      }
    }
  }
  if (meta.standalone && meta.method !== 'cold' && meta.walStart) {
    const range = walRange(meta.timeline, parseLsn(meta.startLsn), parseLsn(meta.stopLsn), meta.walSegmentSize);
    let ok = 0;
    for (const name of range.segments) {
      const r = byPath.get(`pg_wal/${name}`);
      if (!r) report.problems.push({ path: `pg_wal/${name}`, problem: 'WAL segment needed by this standalone backup is missing' });
      else if (r.size !== meta.walSegmentSize) report.problems.push({ path: `pg_wal/${name}`, problem: `WAL segment has ${r.size} bytes` });
      else ok++;
    }
    report.walSegmentsChecked = ok;
  }
  if (needsArchivedWal(meta)) {
    const wal = await checkNeededWal(repo, snap.cluster, meta, { concurrency: repo.jobs });
    report.archivedWal = { from: wal.segments[0]!, to: wal.segments[wal.segments.length - 1]!, segments: wal.segments.length, ok: wal.ok };
    for (const p of wal.problems) report.problems.push({ path: `WAL archive ${p.file}`, problem: p.problem });
  }
}

/**
 * A synthetic data directory of any logical size made of sparse segment files (holes, with one
 * page of data each), and the steps that back it up and read it back through the repository API
 * (the code `backup --method local|cold` runs: buildFileList, copyFiles, the snapshot writer),
 * each in a child process so its peak RSS (VmHWM) is its own. Used by the memory test and by
 * bench/memory.
 *
 *   node dist/test-support/sparse-backup.js backup <repoDir> <dataDir>   a snapshot, incremental to the last
 *   node dist/test-support/sparse-backup.js verify <repoDir> <dataDir>   the last snapshot, read back and compared
 *
 * Each prints one JSON line (StepResult).
 */
import { execFile } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Repository } from '../repo/repository.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { buildFileList } from '../backup/file-list.js';
import { copyFiles } from '../backup/copy-files.js';

const PAGE = 8192;
const CLUSTER = 'sparse';

export interface StepResult {
  step: string;
  seconds: number;
  peakRssMiB: number;
  files?: number;
  logicalBytes?: number;
  storedBytes?: number;
  newChunks?: number;
  reusedChunks?: number;
  parts?: number;
  /** verify: bytes compared. */
  compared?: number;
}

/** `totalBytes` of relation-like segment files of `segmentBytes` each under base/5, all holes but one page. */
export function makeSparseDataDir(dir: string, totalBytes: number, segmentBytes: number): number {
  const base = join(dir, 'base', '5');
  mkdirSync(base, { recursive: true });
  const pv = openSync(join(dir, 'PG_VERSION'), 'w');
  writeSync(pv, '15\n');
  closeSync(pv);
  const count = Math.ceil(totalBytes / segmentBytes);
  for (let i = 0; i < count; i++) {
    const fd = openSync(join(base, i === 0 ? '16384' : `16384.${i}`), 'w');
    const page = Buffer.alloc(PAGE);
    page.write(`segment ${i}`, 0);
    writeSync(fd, page, 0, PAGE, ((i * 7919) % (segmentBytes / PAGE)) * PAGE);
    ftruncateSync(fd, segmentBytes);
    closeSync(fd);
  }
  return count;
}

/** Run one step in a child process (its own peak RSS). */
export async function runSparseStep(step: 'backup' | 'verify', repoDir: string, dataDir: string): Promise<StepResult> {
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), step, repoDir, dataDir], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as StepResult;
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

async function backupStep(repo: Repository, dataDir: string): Promise<Partial<StepResult>> {
  const { manifests } = await repo.readSnapshots(CLUSTER);
  const previous = manifests.at(-1);
  const list = await buildFileList(dataDir, { mode: 'cold', major: 15 });
  const writer = await repo.startSnapshot({ cluster: CLUSTER, kind: 'physical', ...(previous ? { previous } : {}), jobs: 2 });
  await copyFiles({ writer, entries: list.entries, jobs: 2 });
  const m = await writer.commit({});
  const { files, logicalBytes, storedBytes, newChunks, reusedChunks } = m.stats;
  return { files, logicalBytes, storedBytes, newChunks, reusedChunks, parts: m.parts.length };
}

/**
 * Every file of the last snapshot restored (the restore's write path: verified chunk by chunk)
 * into a scratch file, compared with the source, and removed (one file on disk at a time).
 */
async function verifyStep(repo: Repository, dataDir: string): Promise<Partial<StepResult>> {
  const snap = await repo.readSnapshot(CLUSTER);
  const scratch = join(dataDir, '..', `verify-${process.pid}`);
  let files = 0;
  let compared = 0;
  const a = Buffer.alloc(1 << 20);
  const b = Buffer.alloc(1 << 20);
  for await (const r of snap.files()) {
    if (r.type !== 'file') continue;
    const out = await open(scratch, 'w+');
    const src = await open(join(dataDir, r.path), 'r');
    try {
      await repo.writeFile(snap, r, out.fd);
      const size = (await src.stat()).size;
      if ((await out.stat()).size !== size) throw new Error(`${r.path}: restored size differs from the source's ${size}`);
      for (let at = 0; at < size; at += a.length) {
        const n = Math.min(a.length, size - at);
        await out.read(a, 0, n, at);
        await src.read(b, 0, n, at);
        if (!a.subarray(0, n).equals(b.subarray(0, n))) throw new Error(`${r.path} differs from the source in bytes ${at}..${at + n}`);
      }
      compared += size;
      files++;
    } finally {
      await out.close();
      await src.close();
      await rm(scratch, { force: true });
    }
  }
  return { files, compared };
}

async function main(): Promise<void> {
  const [step, repoDir, dataDir] = process.argv.slice(2);
  const began = Date.now();
  if (step !== 'backup' && step !== 'verify') throw new Error(`unknown step ${step}`);
  const repo = await Repository.open(new PosixDriver(repoDir!), { jobs: 2 });
  const out = step === 'backup' ? await backupStep(repo, dataDir!) : await verifyStep(repo, dataDir!);
  await repo.close();
  const result: StepResult = { step, ...out, seconds: (Date.now() - began) / 1000, peakRssMiB: peakRssMiB() };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}

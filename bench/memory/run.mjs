#!/usr/bin/env node
// Memory at scale (issue 14): a synthetic sparse data directory of SIZE GiB logical size (segment
// files that are holes but for one page each) is backed up, backed up again (incremental: every
// file looked up in the previous snapshot), and optionally restored and compared, each step in its
// own process (src/test-support/sparse-backup.ts); prints each step's time and peak RSS (VmHWM).
// Not part of `npm test`; needs `npm run build`.
//
//   node bench/memory/run.mjs [sizeGiB=2048] [chunkSize=131072] [segmentMiB=1024] [--verify]
//                                                          (BENCH_DIR, default $TMPDIR/pgkeep-bench-memory)
//
// What costs memory is the number of chunk records (size / chunkSize): 2 TiB at 128 KiB chunks is
// 16M records, as is 64 GiB at 4 KiB chunks (`node bench/memory/run.mjs 64 4096 16`), which reads
// 32 times fewer bytes of holes.
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const verify = process.argv.includes('--verify');
const sizeGiB = Number(args[0] ?? 2048);
const chunkSize = Number(args[1] ?? 131072);
const segmentMiB = Number(args[2] ?? 1024);
const base = process.env.BENCH_DIR ?? join(tmpdir(), 'pgkeep-bench-memory');
const dist = new URL('../../dist/', import.meta.url);
const { makeSparseDataDir, runSparseStep } = await import(new URL('test-support/sparse-backup.js', dist).href);
const { Repository } = await import(new URL('repo/repository.js', dist).href);
const { PosixDriver } = await import(new URL('repo/storage/posix/index.js', dist).href);

rmSync(base, { recursive: true, force: true });
mkdirSync(base, { recursive: true });
const data = join(base, 'data');
const repoDir = join(base, 'repo');
const segments = makeSparseDataDir(data, sizeGiB * 1024 ** 3, segmentMiB * 1024 ** 2);
const repo = await Repository.init(new PosixDriver(repoDir), { chunkSize, jobs: 2 });
await repo.close();
const records = Math.ceil((sizeGiB * 1024 ** 3) / chunkSize);
console.log(`${sizeGiB} GiB logical in ${segments} sparse files, chunk ${chunkSize} B: ${records} chunk records`);
const steps = ['backup', 'backup', ...(verify ? ['verify'] : [])];
const peaks = [];
for (const [i, step] of steps.entries()) {
  const r = await runSparseStep(step, repoDir, data);
  peaks.push(r.peakRssMiB);
  const what = step === 'backup' ? (i === 0 ? 'full backup' : 'incremental backup') : 'restore + compare';
  const rate = ((r.logicalBytes ?? r.compared ?? 0) / 1024 ** 2 / r.seconds).toFixed(0);
  console.log(
    `${what.padEnd(20)} ${r.seconds.toFixed(1).padStart(8)} s  ${rate.padStart(6)} MiB/s  peak RSS ${String(r.peakRssMiB).padStart(4)} MiB` +
      (r.newChunks !== undefined
        ? `  new chunks ${r.newChunks}, reused ${r.reusedChunks}, parts ${r.parts}, stored ${r.storedBytes} B`
        : ''),
  );
}
console.log(`peak RSS of any step: ${Math.max(...peaks)} MiB (goal: under 300 MiB)`);
rmSync(base, { recursive: true, force: true });

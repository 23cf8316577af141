#!/usr/bin/env node
// Memory of a backup of DISTINCT data (issue 14): one snapshot of CHUNKS generated chunks that all
// differ (src/test-support/many-blobs.ts), written through the snapshot writer in its own process;
// prints its time, CPU (user + system, blob workers included) and peak RSS (VmHWM). run.mjs backs up
// sparse files, whose holes are one blob: this stores every chunk. Default noise: 192 random bytes
// then zeros, a ~250-byte blob per chunk (the most blobs, and pack index entries, per pack);
// --full: random throughout (incompressible: full packs of large blobs). Not part of `npm test`;
// needs `npm run build`.
//
//   node bench/memory/distinct.mjs [chunks=1048576] [chunkSize=131072] [--full] [--heap MiB] [--verify]
//                                                 (BENCH_DIR, default $TMPDIR/pgkeep-bench-distinct)
//
// Disk: ~250 bytes a chunk, or the whole logical size with --full (keep CHUNKS x chunkSize small then).
// --heap caps the V8 heap of the backup (--max-old-space-size); --verify reads every blob back.
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobStep } from './blob-step.mjs';

const argv = process.argv.slice(2);
const value = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const args = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--heap');
const chunks = Number(args[0] ?? 1024 * 1024);
const chunkSize = Number(args[1] ?? 131072);
const noise = argv.includes('--full') ? 'full' : 'head';
const heap = value('--heap');
const base = process.env.BENCH_DIR ?? join(tmpdir(), 'pgkeep-bench-distinct');
const dist = new URL('../../dist/', import.meta.url);
const { Repository } = await import(new URL('repo/repository.js', dist).href);
const { PosixDriver } = await import(new URL('repo/storage/posix/index.js', dist).href);

rmSync(base, { recursive: true, force: true });
mkdirSync(base, { recursive: true });
const repoDir = join(base, 'repo');
try {
  await (await Repository.init(new PosixDriver(repoDir), { chunkSize, jobs: 2 })).close();
  const logical = (chunks * chunkSize) / 1024 ** 3;
  console.log(`${chunks} distinct chunks of ${chunkSize} B (${logical.toFixed(1)} GiB logical, noise ${noise})`);
  const flags = heap ? [`--max-old-space-size=${heap}`] : [];
  const made = blobStep(dist.pathname, repoDir, 'make', [chunks, 0, noise], flags);
  console.log(
    `backup   ${made.seconds.toFixed(1).padStart(7)} s  CPU ${made.cpu.toFixed(1).padStart(6)} s  peak RSS ${String(made.peakRssMiB).padStart(4)} MiB  new chunks ${made.blobs}` +
      (heap ? `  (heap capped at ${heap} MiB)` : ''),
  );
  if (argv.includes('--verify')) {
    const r = blobStep(dist.pathname, repoDir, 'check-data');
    console.log(`verify   ${r.seconds.toFixed(1).padStart(7)} s  ok ${r.ok}, blobs read ${r.blobsRead}, damaged ${r.damaged}`);
  }
  console.log(`peak RSS of the backup: ${made.peakRssMiB} MiB (goal: under 300 MiB)`);
} finally {
  rmSync(base, { recursive: true, force: true });
}

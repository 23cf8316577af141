#!/usr/bin/env node
// Memory at scale for gc and repo check (issue 14): a repository of BLOBS distinct blobs (one
// snapshot of generated chunks, src/test-support/many-blobs.ts), then `repo check`,
// `repo gc --dry-run`, `repo gc` and optionally `repo check --read-data`, each in its own process;
// prints each step's time, CPU and peak RSS (VmHWM). What gc and check hold grows, if anything,
// with the distinct blobs: 16.8M is 2 TiB of distinct data at 128 KiB chunks. Not part of `npm test`;
// needs `npm run build`. --baseline DIR runs the steps with DIR's dist/ (an older checkout, built)
// on the same repository.
//
//   node bench/memory/gc.mjs [blobs=16777216] [--read-data] [--steps check,gc] [--baseline DIR] [--keep]
//                                                        (BENCH_DIR, default $TMPDIR/pgkeep-bench-gc)
import { mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { blobStep } from './blob-step.mjs';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const baseline = value('--baseline');
const args = argv.filter((a, i) => !a.startsWith('--') && !['--baseline', '--steps'].includes(argv[i - 1]));
const blobs = Number(args[0] ?? 16 * 1024 * 1024);
const base = process.env.BENCH_DIR ?? join(tmpdir(), 'pgkeep-bench-gc');
const dist = new URL('../../dist/', import.meta.url);
const { Repository } = await import(new URL('repo/repository.js', dist).href);
const { PosixDriver } = await import(new URL('repo/storage/posix/index.js', dist).href);

const repoDir = join(base, 'repo');
if (!existsSync(repoDir) || !flag('--keep')) {
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const repo = await Repository.init(new PosixDriver(repoDir), { chunkSize: 4096, jobs: 2 });
  await repo.close();
  const made = blobStep(dist.pathname, repoDir, 'make', [blobs]);
  console.log(
    `made ${made.blobs} distinct blobs in ${made.seconds.toFixed(0)} s (CPU ${made.cpu.toFixed(0)} s), peak RSS ${made.peakRssMiB} MiB`,
  );
}
const steps = value('--steps')?.split(',') ?? ['check', 'gc-dry', 'gc', ...(flag('--read-data') ? ['check-data'] : [])];
const runs = [['this checkout', dist.pathname], ...(baseline ? [['baseline', join(resolve(baseline), 'dist')]] : [])];
for (const [label, d] of runs) {
  const peaks = [];
  for (const s of steps) {
    let r;
    try {
      r = blobStep(d, repoDir, s);
    } catch (e) {
      console.log(
        `${label}: ${s.padEnd(10)} FAILED: ${
          String(e.message)
            .split('\n')
            .find((l) => /FATAL|Error/.test(l)) ?? e.message.slice(0, 200)
        }`,
      );
      continue;
    }
    peaks.push(r.peakRssMiB);
    console.log(
      `${label}: ${s.padEnd(10)} ${r.seconds.toFixed(1).padStart(7)} s  CPU ${r.cpu.toFixed(1).padStart(6)} s  peak RSS ${String(r.peakRssMiB).padStart(5)} MiB  ` +
        JSON.stringify({ blobs: r.blobs, packs: r.packs, ok: r.ok, deleted: r.deletedPacks, repacked: r.repackedPacks }),
    );
  }
  console.log(`${label}: peak RSS of any step: ${Math.max(...peaks)} MiB (goal: under 300 MiB)`);
}
if (!flag('--keep')) rmSync(base, { recursive: true, force: true });

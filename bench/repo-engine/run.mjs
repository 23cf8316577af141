#!/usr/bin/env node
// Repository engine benchmark: store and read back ~2 GiB of files with pgkeep (zstd:3, 2 workers)
// and, in the same run, with `tar -c | zstd -3 -T2` and `zstd -d`. Prints throughput, the
// ratios between them and peak RSS. Not part of `npm test`; needs `npm run build` and zstd.
//
//   node bench/repo-engine/run.mjs [sizeMiB=2048]     (BENCH_DIR, default $TMPDIR/pgkeep-bench)
//
// The data is synthetic (make-data.mjs): rows like ../../shared/bench/dataset.sql's in 8 KiB
// pages and 1 GiB segment files, about 2.3x compressible with zstd -3 -- built in about a
// minute instead of loading a cluster.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sizeMiB = Number(process.argv[2] ?? 2048);
const base = process.env.BENCH_DIR ?? join(tmpdir(), 'pgkeep-bench');
const data = join(base, `data-${sizeMiB}`);
const repo = join(base, 'repo');
const tarOut = join(base, 'data.tar.zst');

function timed(cmd, args) {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const [secs, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { seconds: secs, rssMiB: kib / 1024, stdout: r.stdout };
}

function du(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? du(p) : statSync(p).size;
  }
  return n;
}

if (!existsSync(data)) {
  console.log(`building ${sizeMiB} MiB of data in ${data} ...`);
  execFileSync(process.execPath, [join(here, 'make-data.mjs'), data, String(sizeMiB)], { stdio: 'inherit' });
}
const bytes = du(data);
rmSync(repo, { recursive: true, force: true });
rmSync(tarOut, { force: true });
execFileSync('sh', ['-c', `find "${data}" -type f -exec cat {} + > /dev/null`]); // same warm page cache for both

const tarStore = timed('sh', ['-c', `tar -cf - -C "${data}" . | zstd -3 -T2 -q -o "${tarOut}"`]);
const pgStore = timed(process.execPath, [join(here, 'store.mjs'), 'store', data, repo, '2']);
const tarRead = timed('sh', ['-c', `zstd -d -c -q "${tarOut}" > /dev/null`]);
const pgRead = timed(process.execPath, [join(here, 'store.mjs'), 'read', repo, '-', '2']);
const stored = du(join(repo, 'packs'));
const tarSize = statSync(tarOut).size;

const mbps = (s) => (bytes / 1e6 / s).toFixed(0);
const rows = [
  ['store', 'tar -c | zstd -3 -T2', tarStore.seconds, mbps(tarStore.seconds), tarStore.rssMiB.toFixed(0), (bytes / tarSize).toFixed(2)],
  ['store', 'pgkeep (zstd:3, 2 workers)', pgStore.seconds, mbps(pgStore.seconds), pgStore.rssMiB.toFixed(0), (bytes / stored).toFixed(2)],
  ['read', 'zstd -d > /dev/null', tarRead.seconds, mbps(tarRead.seconds), tarRead.rssMiB.toFixed(0), ''],
  ['read', 'pgkeep verified read', pgRead.seconds, mbps(pgRead.seconds), pgRead.rssMiB.toFixed(0), ''],
];
console.log(`\n${(bytes / 2 ** 30).toFixed(2)} GiB in ${data}\n`);
console.log(['op', 'tool', 'seconds', 'MB/s', 'peak RSS MiB', 'ratio'].join('\t'));
for (const r of rows) console.log(r.join('\t'));
console.log(`\nstore: pgkeep / tar|zstd throughput = ${(tarStore.seconds / pgStore.seconds).toFixed(2)}`);
console.log(`read:  pgkeep / zstd -d throughput  = ${(tarRead.seconds / pgRead.seconds).toFixed(2)}`);
rmSync(repo, { recursive: true, force: true });
rmSync(tarOut, { force: true });

#!/usr/bin/env node
// Full backup benchmark (issue 14): several rounds of a full `pgkeep backup --method local --jobs 2`
// (one fresh repository per codec and round) against a full pgBackRest 2.59.1 backup
// (repo1-bundle=y repo1-block=y compress-type=zst process-max=2, its default zstd level 3, a
// fresh stanza each round), on one cluster, tools interleaved. Prints per round and as medians:
// wall time, CPU time (user + system of the tool and its children) and stored bytes, and the
// ratios to pgBackRest. CPU time is the figure to trust on a busy machine.
//
//   node bench/physical/full.mjs [--scale 20] [--rows 800000] [--text-rows 0] [--rounds 3]
//                                [--codecs zstd:3,zstd:1] [--baseline DIR] [--profile DIR]
//
// --text-rows N adds a table of N rows of less compressible text (bench_text: 24 words drawn at
// random from a vocabulary of 4096 hex "words" of 3-9 letters, plus a random number and a
// 16-byte random token), so the codecs are also compared on data that compresses ~2x, not
// only on pgbench (mostly empty filler) and bench_orders.
// --baseline DIR: also back up with the pgkeep built in DIR (another checkout) with the first codec.
// --profile DIR: run pgkeep's first codec under node --cpu-prof (main thread and blob workers) into DIR.
//
// Not part of `npm test`. Needs `npm run build`, root, /usr/bin/time and pgBackRest 2.59.1.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { arg, buildDataset, du, give, log, MB, median, pgbackrestStanza, pgkeepBin, root, timed, traversable } from './common.mjs';

const scale = Number(arg('scale', 20));
const rows = Number(arg('rows', 800000));
const textRows = Number(arg('text-rows', 0));
const rounds = Number(arg('rounds', 3));
const codecs = arg('codecs', 'zstd:3,zstd:1').split(',');
const baseline = arg('baseline') && resolve(arg('baseline'));
const profile = arg('profile') && resolve(arg('profile'));
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pgkeep-bench-full-'));
traversable(dir);
give(dir);

const { LocalCluster } = await import(join(root, 'dist/pg/local-cluster.js'));
const cluster = await LocalCluster.create({
  tmpDir: dir,
  settings: { wal_level: 'replica', max_wal_senders: 5, shared_buffers: '256MB', max_wal_size: '4GB', checkpoint_timeout: '30min' },
  hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
});

const TEXT_TABLE = `
CREATE TABLE bench_text (id bigint PRIMARY KEY, body text NOT NULL);
WITH vocab AS (SELECT array_agg(substr(md5(i::text), 1, 3 + i % 7)) AS w FROM generate_series(1, 4096) i)
INSERT INTO bench_text
SELECT g,
       (SELECT string_agg(vocab.w[1 + floor(random() * 4096)::int + 0 * k], ' ') FROM generate_series(1, 24) k) ||
       ' ' || floor(random() * 1e9)::bigint || ' ' || substr(md5(random()::text), 1, 16)
FROM generate_series(1, ${textRows}) g, vocab;`;

const samples = [];
let clusterBytes = 0;
try {
  await cluster.start();
  clusterBytes = await buildDataset(cluster, scale, rows);
  if (textRows > 0) {
    log(`bench_text: ${textRows} rows`);
    await cluster.exec(TEXT_TABLE);
    await cluster.exec('VACUUM ANALYZE bench_text');
    await cluster.exec('CHECKPOINT');
    const [{ size }] = await cluster.query('SELECT sum(pg_database_size(oid))::bigint AS size FROM pg_database');
    clusterBytes = Number(size);
    log(`cluster with bench_text: ${MB(clusterBytes)}`);
  }
  const pgkeepWith =
    (bin, codec, name, nodeArgs = []) =>
    () => {
      const repo = join(dir, `repo-${name}`);
      const where = ['--repo', repo, '--cluster', 'bench', '--pgdata', cluster.dataDir, '-d', cluster.connectionString()];
      timed(process.execPath, [bin, ...where, 'repo', 'init', '--compression', codec]);
      try {
        const t = timed(process.execPath, [...nodeArgs, bin, ...where, '--json', 'backup', '--method', 'local', '--jobs', '2']);
        return { seconds: t.seconds, cpu: t.cpuSeconds, stored: JSON.parse(t.stdout).storedBytes };
      } finally {
        rmSync(repo, { recursive: true, force: true });
      }
    };
  const tools = {};
  for (const codec of codecs) tools[`pgkeep ${codec}`] = pgkeepWith(pgkeepBin, codec, codec.replace(':', ''));
  if (baseline) tools[`baseline ${codecs[0]}`] = pgkeepWith(join(baseline, 'bin/pgkeep.js'), codecs[0], 'baseline');
  tools.pgbackrest = () => {
    const stanza = join(dir, 'pgbackrest');
    const pbr = pgbackrestStanza(stanza, cluster);
    pbr.run(['stanza-create']);
    try {
      const t = pbr.run(['backup', '--type=full']);
      return { seconds: t.seconds, cpu: t.cpuSeconds, stored: du(join(stanza, 'repo', 'backup')) };
    } finally {
      rmSync(stanza, { recursive: true, force: true });
    }
  };
  if (profile) {
    mkdirSync(profile, { recursive: true });
    log(`profiling pgkeep ${codecs[0]} into ${profile}`);
    pgkeepWith(pgkeepBin, codecs[0], 'profile', ['--cpu-prof', `--cpu-prof-dir=${profile}`])();
  }
  const names = Object.keys(tools);
  for (let i = 1; i <= rounds; i++) {
    log(`round ${i}/${rounds}`);
    const s = {};
    // the order rotates, so no tool always reads a cache another one warmed
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length];
      s[name] = tools[name]();
      log(`  ${name}: ${MB(s[name].stored)} in ${s[name].seconds} s, CPU ${s[name].cpu.toFixed(2)} s`);
    }
    samples.push(s);
  }
} finally {
  await cluster.destroy();
  if (!process.env.BENCH_KEEP) rmSync(dir, { recursive: true, force: true });
}

const mid = (tool, key) => median(samples.map((s) => s[tool][key]));
console.log(
  `\ndataset: pgbench -s ${scale} + bench_orders rows=${rows}${textRows ? ` + bench_text rows=${textRows}` : ''}: cluster ${MB(clusterBytes)}; ${rounds} rounds\n`,
);
console.log(
  `${'median'.padEnd(20)} ${'stored'.padStart(9)} ${'wall'.padStart(7)} ${'CPU'.padStart(7)}   ratios to pgBackRest: stored wall CPU`,
);
const pb = (k) => mid('pgbackrest', k);
for (const name of Object.keys(samples[0])) {
  const r = (k) => (mid(name, k) / pb(k)).toFixed(2).padStart(5);
  console.log(
    `${name.padEnd(20)} ${MB(mid(name, 'stored')).padStart(9)} ${mid(name, 'seconds').toFixed(2).padStart(7)} ${mid(name, 'cpu').toFixed(2).padStart(7)}   ${r('stored')} ${r('seconds')} ${r('cpu')}`,
  );
}
console.log(`\n${JSON.stringify({ dataset: { scale, rows, textRows, clusterBytes }, samples })}`);

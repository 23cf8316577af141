#!/usr/bin/env node
// WAL summaries benchmark (issue 12; not part of npm test): on PostgreSQL 17 with summarize_wal,
// an incremental `backup --method local` with the WAL summaries against the same backup reading
// as before (--no-wal-summaries: every file whose size or mtime changed is read and hashed).
// Two repositories get a full backup of the same cluster; then ROWS/100 rows change and each takes
// an incremental, one per way; then the same with 1% changed scattered over the table. Prints the
// time and the bytes read from the data directory of each incremental.
//
//   npm run build && node bench/wal-summaries/run.mjs [--rows 3000000] [--jobs 2]   (BENCH_DIR, default $TMPDIR)
//
// The page cache is not dropped (the machine is shared): both ways read from memory, so the time
// saved is hashing and compressing, not disk reads; on a cold cache the gap is wider.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LocalCluster } from '../../dist/pg/local-cluster.js';
import { backup } from '../../dist/backup/index.js';
import { initRepository } from '../../dist/repo/index.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROWS = arg('rows', 3000000);
const JOBS = arg('jobs', 2);
const PG17 = resolve('node_modules/embedded-pg-17/native/bin');
const base = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'pgkeep-bench-summaries-'));
const MB = (n) => `${(n / 1048576).toFixed(1)} MiB`;
const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

const cluster = await LocalCluster.create({
  pgBin: PG17,
  tmpDir: base,
  settings: {
    wal_level: 'replica',
    summarize_wal: 'on',
    shared_buffers: '256MB',
    max_wal_size: '4GB',
    checkpoint_timeout: '30min',
    autovacuum: 'off',
  },
});
const repos = {};
const results = [];
try {
  await cluster.start();
  log(`building the dataset: ${ROWS} rows`);
  await cluster.exec(`CREATE TABLE t (id bigint PRIMARY KEY, v int, payload text);
    INSERT INTO t SELECT g, 0, md5(g::text) || md5((g + 1)::text) FROM generate_series(1, ${ROWS}) g;`);
  await cluster.exec('VACUUM (ANALYZE) t');
  await cluster.exec('CHECKPOINT');
  const [{ size }] = await cluster.query('SELECT pg_database_size(current_database())::bigint AS size');
  log(`database: ${MB(Number(size))}`);

  for (const way of ['summaries', 'full-read']) {
    repos[way] = await initRepository({ path: join(base, `repo-${way}`) }, { compression: 'zstd:3', jobs: JOBS });
    log(`full backup (${way} repository)`);
    await run(way, 'full');
  }

  // the order alternates, so neither way always runs first after a change
  let order = ['full-read', 'summaries'];
  const step = async (what, sql) => {
    log(`change: ${what}`);
    await cluster.exec(sql);
    await cluster.exec('CHECKPOINT');
    for (const way of order) await run(way, what);
    order = order.reverse();
  };
  await step('1% of rows, contiguous', `UPDATE t SET v = v + 1 WHERE id <= ${Math.floor(ROWS / 100)}`);
  await step('1% of rows, scattered', 'UPDATE t SET v = v + 1 WHERE id % 100 = 7');
} finally {
  for (const r of Object.values(repos)) await r.closeAll();
  await cluster.destroy();
  rmSync(base, { recursive: true, force: true });
}

async function run(way, what) {
  const began = process.hrtime.bigint();
  const r = await backup({
    repo: repos[way],
    clusterName: 'bench',
    cluster: cluster.connectionSettings(),
    method: 'local',
    standalone: true,
    jobs: JOBS,
    walSummaries: way === 'summaries',
  });
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  const i = r.incrementalRead;
  results.push({
    what,
    way,
    seconds,
    bytesRead: r.bytesRead,
    stored: r.storedBytes,
    logical: r.logicalBytes,
    how: i.method === 'wal-summaries' ? `${i.skippedFiles}/${i.files} files skipped, ${i.patchedFiles} read in part` : i.reason,
  });
}

console.log(`\nPostgreSQL 17, ${ROWS} rows (${MB(results[0].logical)} in the cluster), --jobs ${JOBS}, warm page cache\n`);
console.log(`${'backup'.padEnd(26)} ${'way'.padEnd(10)} ${'time'.padStart(8)} ${'read'.padStart(12)} ${'stored'.padStart(11)}  how`);
for (const x of results) {
  console.log(
    `${x.what.padEnd(26)} ${x.way.padEnd(10)} ${x.seconds.toFixed(2).padStart(6)} s ${MB(x.bytesRead).padStart(12)} ${MB(x.stored).padStart(11)}  ${x.how}`,
  );
}

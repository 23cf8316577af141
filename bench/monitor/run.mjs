#!/usr/bin/env node
// Monitoring benchmark (not part of npm test): how long a health check takes and whether it sees a
// stalled archiver. One throwaway cluster archives into a pgkeep repository AND a pgBackRest one
// (archive_command runs both pushes), with a backup in each. Then, healthy and with both
// repositories made unwritable for the server's OS user (the archiver fails), each tool is asked
// RUNS times, interleaved (the fault: the repositories' directories made read-only): `pgkeep status --json` (exit 0..3), `pgbackrest info --output=json`,
// and `pgbackrest check` (which switches WAL and waits for it to be archived, up to archive-timeout).
// pgBackRest's set-up is the recommended one: bundle, block, zst, process-max 2, async archiving.
//
//   npm run build && PGBACKREST_BIN=/path/to/pgbackrest node bench/monitor/run.mjs [--runs 3]
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { LocalCluster } from '../../dist/pg/local-cluster.js';
import { chownTreeToServerUser } from '../../dist/pg/server-user.js';
import { loadConfig } from '../../dist/config/index.js';
import { clusterStatus } from '../../dist/monitor/index.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const RUNS = Number(arg('runs', '3'));
const PGBR = process.env.PGBACKREST_BIN;
if (!PGBR) throw new Error('set PGBACKREST_BIN to the pgBackRest 2.59.1 binary (../shared/anchors/build-pgbackrest.sh prints it)');
const CLI = resolve('bin/pgkeep.js');
const root = mkdtempSync(join(tmpdir(), 'pgkeep-bench-monitor-'));
chmodSync(root, 0o755);
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const env = { ...process.env };
  delete env.PGKEEP_CONFIG;
  delete env.PGBACKREST_BIN; // pgBackRest reads PGBACKREST_* as its options
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, code: r.status, out: r.stdout, err: r.stderr };
}
function run(cmd, args) {
  const r = timed(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.err || r.out}`);
  return r.out;
}
const asPostgres = (args) => ['-u', 'postgres', '--', PGBR, `--config=${join(root, 'pgbackrest.conf')}`, '--stanza=bench', ...args];

/** Directories made read-only (0555, owner kept): the archiver cannot write, readers still read. Returns the undo. */
function readOnlyDirs(dir) {
  const modes = [];
  const walk = (d) => {
    modes.push([d, statSync(d).mode & 0o7777]);
    for (const n of readdirSync(d)) if (statSync(join(d, n)).isDirectory()) walk(join(d, n));
  };
  walk(dir);
  for (const [d] of modes) chmodSync(d, 0o555);
  return () => {
    for (const [d, m] of modes) chmodSync(d, m);
  };
}

const pgkeepRepo = join(root, 'pgkeep-repo');
const pgbrRepo = join(root, 'pgbr-repo');
for (const d of ['pgbr-repo', 'pgbr-log', 'pgbr-lock', 'pgbr-spool']) mkdirSync(join(root, d));
run(process.execPath, [CLI, '--repo', pgkeepRepo, 'repo', 'init']);
// pgBackRest's check wants "pgbackrest" in archive_command.
const script = join(root, 'pgkeep-then-pgbackrest-push.sh');
writeFileSync(
  script,
  `#!/bin/sh\nenv -u PGKEEP_CONFIG ${process.execPath} ${CLI} --repo ${pgkeepRepo} --cluster bench wal push "$1" || exit 1\n` +
    `exec ${PGBR} --config=${join(root, 'pgbackrest.conf')} --stanza=bench archive-push "$1"\n`,
);
chmodSync(script, 0o755);
chownTreeToServerUser(root);

const cluster = await LocalCluster.create({
  settings: { wal_level: 'replica', archive_mode: 'on', archive_command: `${script} %p`, fsync: false },
});
try {
  writeFileSync(
    join(root, 'pgbackrest.conf'),
    [
      '[global]',
      `repo1-path=${pgbrRepo}`,
      `log-path=${join(root, 'pgbr-log')}`,
      `lock-path=${join(root, 'pgbr-lock')}`,
      `spool-path=${join(root, 'pgbr-spool')}`,
      'repo1-bundle=y',
      'repo1-block=y',
      'compress-type=zst',
      'process-max=2',
      'archive-async=y',
      'log-level-console=warn',
      'start-fast=y',
      'repo1-retention-full=2',
      '[bench]',
      `pg1-path=${cluster.dataDir}`,
      `pg1-socket-path=${cluster.socketDir}`,
      `pg1-port=${cluster.port}`,
      '',
    ].join('\n'),
  );
  chownTreeToServerUser(root);
  await cluster.start();
  run('runuser', asPostgres(['stanza-create']));
  await cluster.exec('create table t as select g from generate_series(1, 100000) g');
  run('runuser', asPostgres(['backup', '--type=full']));
  run(process.execPath, [CLI, '--repo', pgkeepRepo, '--cluster', 'bench', '-d', cluster.connectionString(), 'backup']);
  chownTreeToServerUser(pgkeepRepo);
  writeFileSync(
    join(root, 'pgkeep.toml'),
    `[repo]\npath = "${pgkeepRepo}"\n[cluster.bench]\nconnection = "${cluster.connectionString()}"\n` +
      `pgdata = "${cluster.dataDir}"\n[monitor]\nwal_free_warn = 1\nwal_free_critical = 0\n`,
  );

  const config = loadConfig({ config: join(root, 'pgkeep.toml'), cluster: 'bench' }, {});
  const tools = {
    // One round of the agent's monitor loop: no process start-up.
    'pgkeep round': async () => {
      const t0 = process.hrtime.bigint();
      const s = await clusterStatus(config, 'bench');
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, verdict: `${s.state}, archive ${s.checks[0].state}` };
    },
    'pgkeep status': () => {
      const r = timed(process.execPath, [CLI, '--config', join(root, 'pgkeep.toml'), '--cluster', 'bench', '--json', 'status']);
      const archive = JSON.parse(r.out).clusters?.[0]?.checks?.find((c) => c.check === 'archive')?.state;
      return { ms: r.ms, verdict: `exit ${r.code}, archive ${archive}` };
    },
    'pgbackrest info': () => {
      const r = timed('runuser', asPostgres(['info', '--output=json']));
      const status = JSON.parse(r.out)?.[0]?.status?.message;
      return { ms: r.ms, verdict: `exit ${r.code}, status "${status}"` };
    },
    'pgbackrest check': () => {
      const r = timed('runuser', asPostgres(['check']));
      return { ms: r.ms, verdict: `exit ${r.code}${r.code ? `: ${(r.err || r.out).trim().split('\n')[0].slice(0, 90)}` : ''}` };
    },
  };
  const results = [];
  const measure = async (phase) => {
    for (let i = 0; i < RUNS; i++) {
      for (const [name, f] of Object.entries(tools)) results.push({ phase, name, ...(await f()) });
    }
  };
  await measure('healthy');
  // The fault: neither repository is writable by the server's OS user any more.
  const undo = [readOnlyDirs(pgkeepRepo), readOnlyDirs(pgbrRepo)];
  await cluster.exec('insert into t select g from generate_series(1, 1000) g');
  await cluster.exec('select pg_switch_wal()');
  for (let i = 0; i < 100; i++) {
    const [a] = await cluster.query('select failed_count::int as n from pg_stat_archiver');
    if (a.n > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await measure('archiver failing');
  for (const u of undo) u();

  console.log(`\nmonitoring: ${RUNS} runs each, interleaved; times are wall-clock ms on a shared machine (noisy)\n`);
  console.log('phase              tool               median ms   runs (ms)                 verdict of the last run');
  for (const phase of ['healthy', 'archiver failing']) {
    for (const name of Object.keys(tools)) {
      const rs = results.filter((r) => r.phase === phase && r.name === name);
      const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
      console.log(
        `${phase.padEnd(18)} ${name.padEnd(18)} ${ms[Math.floor(ms.length / 2)].toFixed(0).padStart(9)}   ` +
          `${rs
            .map((r) => r.ms.toFixed(0))
            .join(', ')
            .padEnd(24)}  ${rs[rs.length - 1].verdict}`,
      );
    }
  }
} finally {
  await cluster.destroy();
}

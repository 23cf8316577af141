/**
 * Scenario 8: a corrupted page. A few bytes of one page of `orders` are overwritten on disk (a
 * failing disk or controller); the next `pgkeep backup --method local` verifies every page
 * checksum and refuses, naming the file and block; amcheck agrees. The cluster is stopped and
 * repaired in place with `pgkeep restore --delta` from the last good backup: only the files that
 * differ are rewritten, the WAL the archive lacks is kept and replayed, so nothing committed is
 * lost. amcheck then finds nothing.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { backup } from '../backup/index.js';
import { PgkeepError } from '../errors.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import { restore } from '../restore/index.js';
import { ARCHIVING_CONF, BACKUP_ROLE, REPLICATION_HBA } from './common-prereqs.js';
import { archiveCurrentSegment, DEMO_REPO_CLUSTER, need, one } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { archiveAndBackupStep, shopClusterStep } from './shop-steps.js';
import { SHOP_DATABASE } from './shop.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

interface State extends DemoState {
  detected?: string;
  amcheckBefore?: string;
  amcheckAfter?: string;
  repairedDigest?: string;
  repairSeconds?: number;
  filesRewritten?: number;
}

const DIGEST =
  "SELECT count(*) || ':' || md5(string_agg(format('%s|%s|%s|%s', id, customer_id, product_id, quantity), ',' ORDER BY id)) AS d FROM orders";

/** What amcheck says about orders (heap) and its primary key (B-tree): "no corruption found", or the server's words. */
async function amcheck(c: LocalCluster): Promise<string> {
  const { ok } = await one<{ ok: boolean }>(c, "SELECT count(*) > 0 AS ok FROM pg_available_extensions WHERE name = 'amcheck'");
  if (!ok) return 'amcheck is not available on this server (a contrib module: postgresql-contrib on older Debian releases)';
  await c.exec('CREATE EXTENSION IF NOT EXISTS amcheck', SHOP_DATABASE);
  try {
    const heap = await one<{ n: number }>(c, "SELECT count(*)::int AS n FROM verify_heapam('orders')");
    await c.query("SELECT bt_index_check('orders_pkey', true)", [], SHOP_DATABASE);
    return heap.n === 0 ? 'no corruption found (verify_heapam, bt_index_check)' : `verify_heapam: ${heap.n} problems`;
  } catch (e) {
    return `ERROR: ${(e as Error).message}`;
  }
}

const STEPS: NamedStep<State>[] = [
  shopClusterStep(
    'create-cluster',
    'A cluster with data checksums, and the shop',
    'initdb --data-checksums: every page carries a CRC of its content.',
  ),
  archiveAndBackupStep('WAL archiving and a good base backup', 'The backup the repair will come from, and the archive after it.'),
  {
    name: 'corrupt',
    title: 'The disk damages one page of orders',
    narration: () =>
      'With the server stopped, 16 bytes in the middle of block 1 of the file behind orders are overwritten (what a failing ' +
      'disk, controller or a stray write would do). The server is started again; nothing notices yet.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      const { f } = await one<{ f: string }>(c, "SELECT pg_relation_filepath('orders') AS f");
      await archiveCurrentSegment(c, s.opts.signal);
      await c.stop('fast');
      const fd = openSync(join(c.dataDir, f), 'r+');
      try {
        writeSync(fd, Buffer.alloc(16, 0x5a), 0, 16, 8192 + 4096);
      } finally {
        closeSync(fd);
      }
      await c.start();
      return { file: f, lines: [`${f}, block 1, bytes 4096..4111 overwritten`] };
    },
  },
  {
    name: 'detect',
    title: 'Found: pgkeep backup --method local checks every page checksum; amcheck agrees',
    narration: () =>
      'A local backup reads every file from the data directory and verifies each page against its checksum: the damaged ' +
      'page fails, and the backup refuses to store a copy of it as if it were good. amcheck reads the table and its index.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      const err = await backup({
        repo: need(s.repo, 'repository'),
        clusterName: DEMO_REPO_CLUSTER,
        cluster: c.connectionSettings(),
        method: 'local',
        jobs: 2,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      s.detected = err instanceof PgkeepError && err.code === 'DATA_INTEGRITY' ? err.message : undefined;
      s.amcheckBefore = await amcheck(c);
      return { lines: [`backup: ${s.detected ?? 'NOT DETECTED'}`, `amcheck: ${s.amcheckBefore}`] };
    },
  },
  {
    name: 'repair',
    title: 'Repair in place: pg_ctl stop, then pgkeep restore --delta over the data directory',
    narration: () =>
      "--delta compares every file of the data directory with the good backup's chunk by chunk and rewrites only what " +
      'differs (the damaged page among them); WAL in pg_wal that the archive lacks is kept aside and replayed. Recovery ' +
      'replays the archive and that WAL up to the last commit, and the server promotes.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      await c.exec('INSERT INTO orders (customer_id, product_id) VALUES (7, 7)', SHOP_DATABASE);
      await c.stop('fast');
      const t0 = performance.now();
      const r = await restore({
        repo: need(s.repo, 'repository'),
        cluster: DEMO_REPO_CLUSTER,
        id: need(s.backupId, 'backup'),
        to: c.dataDir,
        delta: true,
        access: { repo: need(s.repoDir, 'repository'), cluster: DEMO_REPO_CLUSTER },
        sync: false,
        start: true,
        signal: s.opts.signal,
        onStarted: (rc) => {
          s.recovered = rc;
        },
      });
      s.repairSeconds = (performance.now() - t0) / 1000;
      s.filesRewritten = r.stats.filesWritten;
      const rc = need(s.recovered, 'repaired cluster');
      s.repairedDigest = (await one<{ d: string }>(rc, DIGEST)).d;
      s.amcheckAfter = await amcheck(rc);
      return {
        filesRewritten: r.stats.filesWritten,
        lines: [
          `${r.stats.filesWritten} of ${r.stats.files} files rewritten, ${r.stats.filesUnchanged} found identical, in ${s.repairSeconds.toFixed(1)} s with recovery`,
          `orders: ${s.repairedDigest.split(':')[0]} rows, every one readable (the order written after the damage included)`,
          `amcheck: ${s.amcheckAfter}`,
        ],
      };
    },
  },
];

function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  return runScenarioSteps<State>('corrupt-page', STEPS, { opts }, (st) => ({
    rpo: { seconds: 0, meaning: 'nothing committed is lost: the archive and the kept pg_wal are replayed to the last commit' },
    rto: { seconds: st.repairSeconds ?? 0, meaning: 'restore --delta (only differing files rewritten) + recovery' },
    checks: [
      { what: 'the backup refused the damaged page', ok: st.detected !== undefined },
      {
        what: 'every order is readable after the repair, the one written after the damage too',
        ok: Number(st.repairedDigest?.split(':')[0]) === 601,
      },
      {
        what: 'amcheck finds nothing after the repair',
        ok: !st.amcheckAfter?.startsWith('ERROR') && !/problems/.test(st.amcheckAfter ?? ''),
      },
    ],
  }));
}

export const CORRUPT_PAGE: Scenario = {
  number: 8,
  name: 'corrupt-page',
  title: 'A corrupted page: found by checksums during a backup, repaired with restore --delta',
  situation:
    'A disk is failing. One page of a table is damaged on disk; queries that touch it fail with "invalid page in block". ' +
    'The rest of the cluster is fine, and the repair should not cost a full restore.',
  fits: {
    method: 'data checksums (initdb --data-checksums) + local backups that verify them + restore --delta from the last good backup',
    why: 'The checksum finds the damage at the next backup instead of months later; --delta rewrites only what differs and keeps the WAL, so no commit is lost.',
  },
  notThese: [
    {
      method: 'a full restore into an empty directory',
      why: 'works, but rewrites every file: hours for a large cluster, where --delta rewrites a few.',
    },
    { method: 'zero_damaged_pages = on', why: 'throws the rows of the page away: data loss chosen on purpose, a last resort.' },
    { method: 'pg_dump', why: 'fails on the damaged page, and cannot bring its rows back.' },
  ],
  prerequisites: {
    postgresqlConf: ARCHIVING_CONF,
    pgHba: REPLICATION_HBA,
    roles: [BACKUP_ROLE, 'initdb --data-checksums (or pg_checksums --enable on a stopped cluster)', 'CREATE EXTENSION amcheck;'],
    schedule: 'pgkeep backup --method local nightly on the database host (it verifies every page); archiving all the time',
  },
  copied: [
    { what: 'every page, checksum-verified', from: 'the data directory, read by pgkeep on the host (local backup)' },
    {
      what: 'at repair: only the files that differ',
      from: 'the repository (the last good backup), then WAL from the archive and the kept pg_wal',
    },
  ],
  commands: ['pgkeep backup --method local', 'pg_ctl stop -D /srv/pg -m fast', 'pgkeep restore <good backup> --to /srv/pg --delta --start'],
  needsClientTools: [],
  run,
};

/**
 * Scenario 4: nightly logical dumps and continuous archiving side by side, against the same
 * accident. Last night's dump and a base backup exist; orders come in all day; orders is dropped.
 * The dump brings back the orders of last night; the archive brings back every order up to one
 * second before the drop. Both RPOs are measured on the same data.
 */
import { restoreDump } from '../logical/index.js';
import { accident, archiveCurrentSegment, DEMO_REPO_CLUSTER, moreOrders, need, one, recover } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import { ARCHIVING_CONF, BACKUP_ROLE, DUMP_HBA, DUMP_ROLE, REPLICATION_HBA } from './common-prereqs.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { archiveAndBackupStep, dumpShop, mib, shopClusterStep } from './shop-steps.js';
import { SHOP_DATABASE } from './shop.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

const FROM_DUMP = 'shop_from_dump';

interface State extends DemoState {
  dumpId?: string;
  dumpAt?: number;
  dropAt?: number;
  ordersFromDump?: number;
  ordersFromArchive?: number;
  dumpRestoreSeconds?: number;
  pitrSeconds?: number;
}

const STEPS: NamedStep<State>[] = [
  shopClusterStep('create-cluster', 'Production: a throwaway cluster with the shop', 'initdb, a free port; the shop loaded.'),
  archiveAndBackupStep(
    'Continuous archiving and a base backup',
    'archive_mode = on with pgkeep wal push; pgkeep backup over the replication protocol.',
  ),
  {
    name: 'nightly-dump',
    title: 'The nightly logical dump: pgkeep dump --database shop',
    narration: () =>
      'pg_dump reads the catalogs and every row in one snapshot; pgkeep stores the custom-format dump in the same repository.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      const d = await dumpShop(s);
      s.dumpId = d.snapshotId;
      s.dumpAt = Date.now();
      const { n } = await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM orders');
      return { lines: [`dump ${d.snapshotId}: ${mib(d.dumpBytes)} in ${d.seconds.toFixed(1)} s; ${n} orders in it`] };
    },
  },
  {
    name: 'the-day',
    title: 'The day: orders come in',
    narration: () => "Fifty orders in five transactions: in the WAL (and so in the archive), not in last night's dump.",
    run: async (s) => {
      const r = (await moreOrders(s)) as { orders: number };
      return { lines: [`${r.orders} orders now`] };
    },
  },
  {
    name: 'accident',
    title: 'The accident: DROP TABLE orders CASCADE',
    narration: () => 'Then the segment holding the drop is archived (pg_switch_wal), as a busy server or archive_timeout would do.',
    run: async (s) => {
      const r = (await accident(s)) as { droppedAt: string };
      s.dropAt = Date.parse(need(s.dropTime, 'drop time'));
      await archiveCurrentSegment(need(s.cluster, 'cluster'), s.opts.signal);
      return { lines: [`dropped at ${r.droppedAt}; ${s.ordersBeforeDrop} orders existed`] };
    },
  },
  {
    name: 'from-the-dump',
    title: "Back from last night's dump: pgkeep restore-dump --into shop_from_dump",
    narration: () => "pg_restore runs the dump's SQL into a new database next to production: the orders of last night come back.",
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      await c.exec(`CREATE DATABASE ${FROM_DUMP}`);
      const t0 = performance.now();
      await restoreDump({
        repo: need(s.repo, 'repository'),
        clusterName: DEMO_REPO_CLUSTER,
        cluster: c.connectionSettings(FROM_DUMP),
        id: need(s.dumpId, 'dump'),
        into: FROM_DUMP,
        signal: s.opts.signal,
      });
      s.dumpRestoreSeconds = (performance.now() - t0) / 1000;
      s.ordersFromDump = (await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM orders', FROM_DUMP)).n;
      return {
        lines: [
          `${s.ordersFromDump} orders back in ${s.dumpRestoreSeconds.toFixed(1)} s (from the dump in the repository, by pg_restore over SQL)`,
        ],
      };
    },
  },
  {
    name: 'from-the-archive',
    title: 'Back from the base backup + WAL archive: pgkeep restore --target-time (1 s before the drop)',
    narration: () => "The backup's files into a new directory, then the archived WAL replayed up to the target, then promoted.",
    run: async (s) => {
      const t0 = performance.now();
      const r = (await recover(s)) as { walSegments: string[] };
      s.pitrSeconds = (performance.now() - t0) / 1000;
      s.ordersFromArchive = (await one<{ n: number }>(need(s.recovered, 'recovered cluster'), 'SELECT count(*)::int AS n FROM orders')).n;
      return {
        lines: [
          `${s.ordersFromArchive} orders back in ${s.pitrSeconds.toFixed(1)} s (${r.walSegments.length} WAL segments replayed from the archive)`,
        ],
      };
    },
  },
  {
    name: 'side-by-side',
    title: 'Side by side',
    narration: () => 'What each brought back, what each lost, how long each took.',
    run: async (s) => {
      const lostByDump = need(s.ordersBeforeDrop, 'orders') - need(s.ordersFromDump, 'dump');
      return {
        lostByDump,
        lines: [
          `dump:    ${s.ordersFromDump} orders, ${lostByDump} lost: everything since the dump, ${((need(s.dropAt, 'drop') - need(s.dumpAt, 'dump')) / 1000).toFixed(1)} s of writes here (up to a day with a nightly dump)`,
          `archive: ${s.ordersFromArchive} orders, ${need(s.ordersBeforeDrop, 'orders') - need(s.ordersFromArchive, 'archive')} lost: the target was 1 s before the drop`,
          'the dump still earns its place: it restores one database or table into any server and major, and is readable SQL.',
        ],
      };
    },
  },
];

function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  return runScenarioSteps<State>('dumps-and-archiving', STEPS, { opts }, (st) => {
    const dumpRpo = (need(st.dropAt, 'drop') - need(st.dumpAt, 'dump')) / 1000;
    return {
      rpo: {
        seconds: (need(st.dropAt, 'drop') - Date.parse(need(st.targetTime, 'target'))) / 1000,
        meaning: `with the archive: the span between the target and the drop (the dump's RPO here: ${dumpRpo.toFixed(1)} s, the time since it ran)`,
      },
      rto: {
        seconds: st.pitrSeconds ?? 0,
        meaning: `restore + WAL replay (the dump's restore: ${(st.dumpRestoreSeconds ?? 0).toFixed(1)} s)`,
      },
      checks: [
        {
          what: 'the dump brought back the orders of its own time only',
          ok: st.ordersFromDump !== undefined && st.ordersFromDump < need(st.ordersBeforeDrop, 'orders'),
        },
        { what: 'the archive brought back every order', ok: st.ordersFromArchive === st.ordersBeforeDrop },
      ],
    };
  });
}

export const DUMPS_AND_ARCHIVING: Scenario = {
  number: 4,
  name: 'dumps-and-archiving',
  title: 'Nightly logical dumps and continuous archiving, side by side',
  situation:
    'You have a nightly pg_dump and wonder whether WAL archiving is worth setting up. Both face the same accident here, ' +
    'on the same data, and what each brings back is counted.',
  fits: {
    method: 'both: continuous archiving + base backups for recovery to any moment, nightly dumps for moving and inspecting data',
    why: 'The archive bounds the loss to seconds; the dump bounds it to a day but survives a change of major, of server, of architecture.',
  },
  notThese: [
    { method: 'dumps alone', why: 'every write since the last dump is lost; restoring a large database rebuilds every index.' },
    {
      method: 'archiving alone',
      why: 'restores the whole cluster on the same major only; one table to another server needs a dump anyway (restore-table makes one).',
    },
  ],
  prerequisites: {
    postgresqlConf: ARCHIVING_CONF,
    pgHba: [...REPLICATION_HBA, ...DUMP_HBA],
    roles: [BACKUP_ROLE, DUMP_ROLE],
    schedule: 'pgkeep backup weekly or nightly; pgkeep dump --all nightly (cron: 30 1 * * *); archiving all the time',
  },
  copied: [
    { what: 'dump: definitions and rows', from: 'the system catalogs and the tables, by pg_dump over SQL in one snapshot' },
    { what: 'base backup: every data file', from: 'the server, over the replication protocol' },
    { what: 'WAL segments', from: "the server's pg_wal, by archive_command" },
  ],
  commands: [
    'pgkeep dump --all',
    'pgkeep backup',
    'pgkeep restore-dump latest --into shop_from_dump',
    "pgkeep restore --target-time '...' --to /srv/pg-recovered",
  ],
  needsClientTools: ['pg_dump', 'pg_restore'],
  run,
};

/**
 * Scenario 3: move one database to a new server running a newer major version, logically: the
 * source is made read-only for the window, `pgkeep dump` stores it in the repository, a new
 * cluster of a newer major is started, `pgkeep restore-dump --create` loads it there, and the two
 * are compared row for row. A physical backup cannot do this: its files are in the old major's
 * on-disk format, which a newer server refuses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { restoreDump } from '../logical/index.js';
import { findPgBinDir } from '../pg/bin.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { DUMP_HBA, DUMP_ROLE } from './common-prereqs.js';
import { dumpShop, shopClusterStep } from './shop-steps.js';
import { createRepository, DEMO_REPO_CLUSTER, need, one } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { SHOP_DATABASE } from './shop.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

interface State extends DemoState {
  dumpId?: string;
  windowStart?: number;
  windowSeconds?: number;
  target?: LocalCluster;
  source?: ShopDigest;
  migrated?: ShopDigest;
}

interface ShopDigest {
  orders: string;
  customers: string;
  view: boolean;
  fn: string;
}

/** Row counts and md5 of each table in key order, the view and the function's result. */
async function digest(c: LocalCluster): Promise<ShopDigest> {
  return one<ShopDigest>(
    c,
    "SELECT (SELECT count(*) || ':' || md5(string_agg(format('%s|%s|%s|%s|%s', id, customer_id, product_id, quantity, ordered_at), ',' ORDER BY id)) FROM orders) AS orders, " +
      "(SELECT count(*) || ':' || md5(string_agg(format('%s|%s|%s', id, email, city), ',' ORDER BY id)) FROM customers) AS customers, " +
      "to_regclass('order_totals') IS NOT NULL AS view, customer_total(1)::text AS fn",
  );
}

/** A newer major than `source` among those this machine can start (17 first, as the upgrade most often made today). */
async function newerMajor(source: number): Promise<number> {
  for (const major of [17, 18, 16, 19]) {
    if (major <= source) continue;
    const found = await findPgBinDir({ major }).catch(() => undefined);
    if (found) return major;
  }
  throw new PgkeepError('TOOL_MISSING', `no PostgreSQL server newer than ${source} is installed to migrate to`, {
    hint: 'install a newer major (Debian/Ubuntu: apt-get install postgresql-17) or the embedded-pg-<major> npm binaries',
  });
}

const ALL_STEPS: NamedStep<State>[] = [
  shopClusterStep(
    'source',
    'The old server: the shop database on the current major',
    'A throwaway cluster with the shop: the database to move.',
    async (s) => {
      s.source = await digest(need(s.cluster, 'cluster'));
    },
  ),
  {
    name: 'window',
    title: 'The maintenance window opens: the old server goes read-only',
    narration: () =>
      'ALTER SYSTEM SET default_transaction_read_only = on and a reload: from now on nothing written to the old server ' +
      "could be lost by the move. (Not ALTER DATABASE shop SET ...: a dump made with --create carries the database's " +
      'settings, and the new database would come up read-only too.) The window lasts until the new server takes the traffic.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      s.windowStart = performance.now();
      await c.query('ALTER SYSTEM SET default_transaction_read_only = on');
      await c.query('SELECT pg_reload_conf()');
      const refused = await c.exec("INSERT INTO customers (name, email) VALUES ('late', 'late@example.com')", SHOP_DATABASE).then(
        () => false,
        () => true,
      );
      return { writesRefused: refused, lines: [`a new write is ${refused ? 'refused' : 'STILL ACCEPTED'}`] };
    },
  },
  {
    name: 'dump',
    title: 'pgkeep dump --database shop (pg_dump, custom format, into the repository)',
    narration: () =>
      'pg_dump connects like any client and reads, in one repeatable-read snapshot, the definitions from the system ' +
      'catalogs (pg_class, pg_attribute, pg_proc...) and every row with COPY. The result is SQL-level: it does not depend on ' +
      'the on-disk format of the old major.',
    run: async (s) => {
      await createRepository(s);
      const c = need(s.cluster, 'cluster');
      const d = await dumpShop(s);
      s.dumpId = d.snapshotId;
      return {
        id: d.snapshotId,
        bytes: d.dumpBytes,
        seconds: d.seconds,
        lines: [
          `dump ${d.snapshotId}: ${d.dumpBytes} bytes by pg_dump ${d.pgDumpVersion} from server ${d.serverVersion} in ${d.seconds.toFixed(1)} s`,
        ],
      };
    },
  },
  {
    name: 'new-server',
    title: 'The new server: a cluster of a newer major',
    narration: (s) =>
      `initdb of a newer major than ${s.cluster?.major}, on its own port: the machine the database moves to, ready before the window.`,
    run: async (s) => {
      const major = await newerMajor(need(s.cluster, 'cluster').major);
      const t = await LocalCluster.create({ major, listen: '' });
      s.target = t;
      s.extra = [{ label: `the new PostgreSQL ${major} cluster`, cluster: t }];
      await t.start();
      return { version: t.version, lines: [`PostgreSQL ${t.version} in ${t.dataDir}, port ${t.port}`] };
    },
  },
  {
    name: 'why-not-physical',
    title: 'Why a physical backup cannot make this move',
    narration: () =>
      'A base backup copies the data files as they are on disk; their format (the catalog version, page layouts) belongs to ' +
      'one major. The data directory says which in PG_VERSION, and a server of another major refuses to start on it. ' +
      "(pg_upgrade is the physical way across majors; it runs on the new server's host with both versions installed.)",
    run: async (s) => {
      const from = readFileSync(join(need(s.cluster, 'cluster').dataDir, 'PG_VERSION'), 'utf8').trim();
      const to = readFileSync(join(need(s.target, 'target').dataDir, 'PG_VERSION'), 'utf8').trim();
      return { lines: [`PG_VERSION of the old data directory: ${from}; of the new one: ${to}: the files of one cannot serve the other`] };
    },
  },
  {
    name: 'restore-dump',
    title: 'pgkeep restore-dump --create into the new server, then compare',
    narration: () =>
      'pg_restore reads the dump from the repository and runs its SQL on the new server: CREATE DATABASE, the tables, the ' +
      'rows (COPY), then indexes, constraints, the view and the function. The new server writes its own files in its own format.',
    run: async (s) => {
      const t = need(s.target, 'target');
      const r = await restoreDump({
        repo: need(s.repo, 'repository'),
        clusterName: DEMO_REPO_CLUSTER,
        cluster: t.connectionSettings('postgres'),
        id: need(s.dumpId, 'dump'),
        create: true,
        signal: s.opts.signal,
      });
      s.windowSeconds = (performance.now() - need(s.windowStart, 'window')) / 1000;
      s.migrated = await digest(t);
      const same = JSON.stringify(s.migrated) === JSON.stringify(s.source);
      return {
        errors: r.errorCount,
        lines: [
          `restored ${r.parts.map((p) => `${p.name} (${p.mode})`).join(', ')} in ${r.seconds.toFixed(1)} s, ${r.errorCount} errors`,
          `orders ${s.migrated.orders.split(':')[0]}, customers ${s.migrated.customers.split(':')[0]}, view ${s.migrated.view ? 'there' : 'MISSING'}: ${same ? 'identical to the old server, row for row' : 'DIFFERENT from the old server'}`,
        ],
      };
    },
  },
];

/** The new server is ready before the window opens, as it would be in real life. */
const STEPS = ['source', 'new-server', 'why-not-physical', 'window', 'dump', 'restore-dump'].map((n) =>
  need(
    ALL_STEPS.find((x) => x.name === n),
    n,
  ),
);

function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  return runScenarioSteps<State>('migrate', STEPS, { opts }, (state) => {
    return {
      rpo: { seconds: 0, meaning: 'the source was read-only during the window: no write could be lost by the move' },
      rto: {
        seconds: state.windowSeconds ?? 0,
        meaning: 'the window: read-only, dump, restore on the new server (the downtime for writes)',
      },
      checks: [
        {
          what: 'the new server holds the same rows, view and function as the old',
          ok: JSON.stringify(state.migrated) === JSON.stringify(state.source),
        },
      ],
    };
  });
}

export const MIGRATE: Scenario = {
  number: 3,
  name: 'migrate',
  title: 'Move one database to a new server and a newer major (dump, restore-dump)',
  situation:
    'The shop database moves from an old server to a new machine running a newer PostgreSQL major. The other databases ' +
    'stay behind. A short window without writes is allowed.',
  fits: {
    method: 'a logical dump (pgkeep dump, pg_dump custom format) restored with pgkeep restore-dump --create',
    why: 'A dump is SQL: it is independent of the on-disk format, so a newer major loads it, and it holds one database, not the cluster.',
  },
  notThese: [
    {
      method: 'a physical base backup',
      why: 'holds the files of the old major, which a newer server refuses, and always the whole cluster.',
    },
    {
      method: 'pg_upgrade',
      why: 'upgrades a whole cluster in place on one host with both majors installed; it does not move one database to another machine.',
    },
    {
      method: 'logical replication',
      why: 'fits a window of near zero, but needs publications, a subscription and care with sequences and DDL: more than this move needs.',
    },
  ],
  prerequisites: {
    postgresqlConf: [],
    pgHba: DUMP_HBA,
    roles: [DUMP_ROLE, 'on the new server: a role allowed to CREATE DATABASE (restore-dump --create)'],
    schedule: 'once, in the maintenance window',
  },
  copied: [
    { what: 'definitions (tables, indexes, view, function)', from: "the old server's system catalogs, read by pg_dump over SQL" },
    { what: 'every row', from: 'the tables, by COPY TO STDOUT inside one snapshot' },
    { what: 'into the new server', from: 'the repository, by pg_restore running the SQL and COPY FROM STDIN' },
  ],
  commands: ['pgkeep dump --database shop', 'pgkeep -d "host=new-server dbname=postgres" restore-dump latest --create'],
  needsClientTools: ['pg_dump', 'pg_restore'],
  run,
};

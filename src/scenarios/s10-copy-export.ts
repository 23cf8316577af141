/**
 * Scenario 10: one table exported for analytics with COPY, and why that is not a backup. The rows
 * leave as CSV; the catalogs say what the file does not carry (the definition, keys, indexes, the
 * identity's position, what depends on the table); loading it back needs the definition made by
 * hand first.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportCopy, importCopy } from '../logical/index.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import { need, one } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { mib, shopClusterStep } from './shop-steps.js';
import { SHOP_DATABASE } from './shop.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

interface State extends DemoState {
  file?: string;
  exportedAt?: number;
  rowsExported?: number;
  digest?: string;
  reloadedDigest?: string;
  importSeconds?: number;
  notInFile?: number;
}

const DIGEST = (t: string) =>
  `SELECT count(*) || ':' || md5(string_agg(format('%s|%s|%s|%s|%s', id, customer_id, product_id, quantity, ordered_at), ',' ORDER BY id)) AS d FROM ${t}`;

/** What the catalogs know about orders beyond its rows. */
const AROUND_THE_ROWS = `
SELECT (SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'p') AS pk,
       (SELECT count(*)::int FROM pg_constraint WHERE conrelid = 'orders'::regclass AND contype = 'f') AS fks,
       (SELECT count(*)::int FROM pg_index WHERE indrelid = 'orders'::regclass) AS indexes,
       (SELECT count(DISTINCT v.oid)::int FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class
         WHERE d.refobjid = 'orders'::regclass AND v.oid <> 'orders'::regclass) AS views,
       (SELECT last_value::text FROM orders_id_seq) AS identity_at`;

const STEPS: NamedStep<State>[] = [
  shopClusterStep(
    'create-cluster',
    'The database: a throwaway cluster with the shop',
    'initdb, a free port; the shop loaded.',
    async (s) => {
      s.digest = (await one<{ d: string }>(need(s.cluster, 'cluster'), DIGEST('orders'))).d;
    },
  ),
  {
    name: 'export',
    title: 'pgkeep copy export --table orders --format csv --header',
    narration: () =>
      "COPY orders TO STDOUT streams the table's rows, as the server sees them in one snapshot, into a CSV file: what an " +
      'analytics tool or a spreadsheet wants.',
    run: async (s) => {
      s.workDir = mkdtempSync(join(tmpdir(), 'pgkeep-scenario-'));
      chownTreeToServerUser(s.workDir);
      s.file = join(s.workDir, 'orders.csv');
      const c = need(s.cluster, 'cluster');
      const r = await exportCopy({
        cluster: c.connectionSettings(SHOP_DATABASE),
        table: 'orders',
        format: 'csv',
        header: true,
        to: s.file,
        signal: s.opts.signal,
      });
      s.exportedAt = performance.now();
      s.rowsExported = r.rows;
      return {
        rows: r.rows,
        lines: [`${r.rows} rows, ${mib(r.bytes)}, into ${s.file} in ${r.seconds.toFixed(2)} s (from the table, by COPY over SQL)`],
      };
    },
  },
  {
    name: 'not-in-the-file',
    title: 'What the file does not hold',
    narration: () =>
      'A backup brings back a database; the CSV brings back rows of one table at one moment. The system catalogs list what ' +
      'surrounds those rows and is not in the file.',
    run: async (s) => {
      const a = await one<{ pk: number; fks: number; indexes: number; views: number; identity_at: string }>(
        need(s.cluster, 'cluster'),
        AROUND_THE_ROWS,
      );
      s.notInFile = a.pk + a.fks + a.indexes + a.views + 1;
      return {
        lines: [
          'the table definition (column types, defaults, the identity column), its owner and grants',
          `${a.pk} primary key, ${a.fks} foreign keys, ${a.indexes} indexes, ${a.views} view depending on it, the identity's position (${a.identity_at})`,
          'the other tables, and every write after the export: there is no WAL to roll it forward',
        ],
      };
    },
  },
  {
    name: 'load-back',
    title: 'Load it back: only into a table someone defined first',
    narration: () =>
      'CREATE TABLE orders_from_csv (LIKE orders) stands in for the definition the file lacks (made here from the live table, ' +
      'which a real loss would not have); then pgkeep copy import loads the rows in one transaction.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      await c.exec('CREATE TABLE orders_from_csv (LIKE orders)', SHOP_DATABASE);
      const r = await importCopy({
        cluster: c.connectionSettings(SHOP_DATABASE),
        table: 'orders_from_csv',
        format: 'csv',
        header: true,
        from: need(s.file, 'file'),
        signal: s.opts.signal,
      });
      s.importSeconds = r.seconds;
      s.reloadedDigest = (await one<{ d: string }>(c, DIGEST('orders_from_csv'))).d;
      return {
        lines: [
          `${r.rows} rows loaded in ${r.seconds.toFixed(2)} s: ${s.reloadedDigest === s.digest ? 'the same rows' : 'DIFFERENT rows'}, without keys, indexes or the view`,
        ],
      };
    },
  },
];

function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  return runScenarioSteps<State>('copy-export', STEPS, { opts }, (st) => ({
    rpo: {
      seconds: (performance.now() - need(st.exportedAt, 'export')) / 1000,
      meaning: 'the age of the export at the end of the run: every write since, and every other table, would be lost',
    },
    rto: { seconds: st.importSeconds ?? 0, meaning: 'loading the rows, once someone has recreated the table by hand (not counted)' },
    checks: [
      { what: 'the CSV holds exactly the rows of the table', ok: st.reloadedDigest === st.digest },
      { what: 'the catalogs show what the file lacks', ok: (st.notInFile ?? 0) >= 4 },
    ],
  }));
}

export const COPY_EXPORT: Scenario = {
  number: 10,
  name: 'copy-export',
  title: 'Export one table for analytics with COPY, and why it is not a backup',
  situation: 'The analytics team wants the orders as CSV every morning. Someone suggests the export could double as the backup.',
  fits: {
    method: 'pgkeep copy export (COPY TO STDOUT) for the analytics; a real backup beside it',
    why: 'COPY is the fastest way to move rows out of one table in a format other tools read; it is not meant to rebuild a database.',
  },
  notThese: [
    {
      method: 'the CSV as a backup',
      why: 'no definition, no keys, no indexes, no other objects, one moment only: a restore would be a rebuild by hand.',
    },
    { method: 'pg_dump -t orders for analytics', why: "restorable, but in PostgreSQL's own format: the analytics tools want CSV." },
  ],
  prerequisites: {
    postgresqlConf: [],
    pgHba: ['host    analytics     exporter   10.0.0.7/32    scram-sha-256'],
    roles: ['CREATE ROLE exporter LOGIN; GRANT SELECT ON orders TO exporter;'],
    schedule: 'cron: 0 6 * * * pgkeep copy export --table orders --format csv --header --to /srv/exports/orders.csv',
  },
  copied: [{ what: "the table's rows (as text)", from: 'the table, by COPY TO STDOUT over SQL, in one snapshot' }],
  commands: [
    'pgkeep copy export --table orders --format csv --header --to orders.csv',
    'pgkeep copy import --table orders_from_csv --format csv --header --from orders.csv',
  ],
  needsClientTools: [],
  run,
};

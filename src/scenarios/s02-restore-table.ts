/**
 * Scenario 2: one table back while production keeps running. A forgotten WHERE sets every
 * product's price to 0; orders keep coming in; restore-table brings `products` back as it was one
 * second before, next to the live one, while a writer keeps inserting orders; then the prices are
 * put back with one UPDATE.
 */
import { restoreTable } from '../logical/index.js';
import { ARCHIVING_CONF, BACKUP_ROLE, REPLICATION_HBA } from './common-prereqs.js';
import { archiveAndBackupStep, shopClusterStep } from './shop-steps.js';
import { archiveCurrentSegment, DEMO_REPO_CLUSTER, need, one } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import { parseTargetTime, formatIsoMicros } from '../restore/index.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { SHOP_DATABASE } from './shop.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

interface State extends DemoState {
  pricesBefore?: string;
  mistakeAt?: string;
  asOf?: string;
  restoreSeconds?: number;
  ordersDuringRestore?: number;
  pricesRestored?: string;
  pricesRepaired?: string;
}

const PRICES = "SELECT md5(string_agg(id || ':' || price, ',' ORDER BY id)) AS m FROM products";

const STEPS: NamedStep<State>[] = [
  shopClusterStep(
    'create-cluster',
    'Production: a throwaway cluster with the shop database',
    'initdb, a free port, a private socket; then the shop (customers, products, orders).',
  ),
  archiveAndBackupStep(
    'WAL archiving and a nightly base backup',
    'archive_mode = on with pgkeep wal push, then pgkeep backup: the physical backup restore-table will start from.',
  ),
  {
    name: 'mistake',
    title: 'The mistake: UPDATE products SET price = 0 (the WHERE was forgotten)',
    narration: () => 'A quiet second, then the UPDATE. Every product now costs 0; orders keep coming in at those prices.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      s.pricesBefore = (await one<{ m: string }>(c, PRICES)).m;
      await new Promise((r) => setTimeout(r, 1200));
      const { t } = await one<{ t: string }>(c, 'SELECT clock_timestamp()::text AS t');
      await c.exec('UPDATE products SET price = 0', SHOP_DATABASE);
      const at = parseTargetTime(t);
      s.mistakeAt = at.iso;
      s.asOf = formatIsoMicros(at.micros - 1_000_000n);
      await c.exec('INSERT INTO orders (customer_id, product_id) VALUES (1, 1), (2, 2)', SHOP_DATABASE);
      await archiveCurrentSegment(c, s.opts.signal);
      return { mistakeAt: s.mistakeAt, asOf: s.asOf, lines: [`UPDATE at ${s.mistakeAt}; the table is wanted as of ${s.asOf}`] };
    },
  },
  {
    name: 'restore-table',
    title: 'pgkeep restore-table products --as-of <1 s before> --as products_restored, while orders keep coming',
    narration: () =>
      'restore-table restores the base backup into a sandbox (a throwaway cluster in a temporary directory, no TCP, no ' +
      'archiving), replays the archived WAL up to the moment, promotes it, dumps the one table with pg_dump -t, loads it into ' +
      'the live database under a new name with pg_restore (one transaction), and removes the sandbox. Meanwhile a writer ' +
      'inserts an order every 100 ms: production is never stopped or locked beyond the new table.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      let writing = true;
      let inserted = 0;
      const writer = (async () => {
        while (writing) {
          await c.exec('INSERT INTO orders (customer_id, product_id) VALUES (3, 3)', SHOP_DATABASE);
          inserted++;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      try {
        const r = await restoreTable({
          repo: need(s.repo, 'repository'),
          clusterName: DEMO_REPO_CLUSTER,
          cluster: c.connectionSettings(SHOP_DATABASE),
          access: { repo: need(s.repoDir, 'repository'), cluster: DEMO_REPO_CLUSTER },
          table: 'products',
          asOf: need(s.asOf, 'target'),
          as: 'products_restored',
          signal: s.opts.signal,
        });
        s.restoreSeconds = r.seconds;
        s.ordersDuringRestore = inserted;
        return {
          rows: r.rows,
          backup: r.backup.id,
          seconds: r.seconds,
          ordersDuringRestore: inserted,
          lines: [
            `from the backup ${r.backup.id} (${r.backup.method}) into a sandbox, then WAL from the archive: ${r.recoveryStop ?? 'recovery stopped at the target'}`,
            `${r.rows} rows loaded as ${r.restoredAs} in ${r.seconds.toFixed(1)} s; steps: ${r.steps.map((x) => `${x.step} ${x.seconds.toFixed(1)} s`).join(', ')}`,
            `${inserted} orders were written by production meanwhile`,
          ],
        };
      } finally {
        writing = false;
        await writer;
      }
    },
  },
  {
    name: 'repair',
    title: 'Compare, then put the prices back with one UPDATE',
    narration: () =>
      'products_restored holds the prices of one second before the mistake; an UPDATE ... FROM copies them into the live table.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      s.pricesRestored = (await one<{ m: string }>(c, PRICES.replace('products', 'products_restored'))).m;
      const zero = await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM products WHERE price = 0');
      await c.exec('UPDATE products p SET price = r.price FROM products_restored r WHERE p.id = r.id', SHOP_DATABASE);
      s.pricesRepaired = (await one<{ m: string }>(c, PRICES)).m;
      return {
        zeroBefore: zero.n,
        lines: [
          `live products at price 0 before the repair: ${zero.n}`,
          `products_restored matches the prices before the mistake: ${s.pricesRestored === s.pricesBefore ? 'yes' : 'NO'}`,
          `live prices after the UPDATE match them: ${s.pricesRepaired === s.pricesBefore ? 'yes' : 'NO'}`,
        ],
      };
    },
  },
];

function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  return runScenarioSteps<State>('restore-table', STEPS, { opts }, (state) => {
    return {
      rpo: {
        seconds: (Date.parse(need(state.mistakeAt, 'mistake')) - Date.parse(need(state.asOf, 'target'))) / 1000,
        meaning: 'changes to products in the second before the mistake would not come back (here none); the other tables lose nothing',
      },
      rto: { seconds: state.restoreSeconds ?? 0, meaning: 'restore-table: sandbox restore + WAL replay + dump + load, production running' },
      checks: [
        { what: 'products_restored holds the prices as they were before the mistake', ok: state.pricesRestored === state.pricesBefore },
        { what: 'the live prices are repaired', ok: state.pricesRepaired === state.pricesBefore },
        { what: 'production wrote orders during the restore', ok: (state.ordersDuringRestore ?? 0) > 0 },
      ],
    };
  });
}

export const RESTORE_TABLE: Scenario = {
  number: 2,
  name: 'restore-table',
  title: 'One table back while production keeps running (restore-table)',
  situation:
    'An UPDATE without WHERE set every price to 0. Orders keep coming in and must not stop. You want products as it was ' +
    'one second before, next to the live table, to repair it with SQL.',
  fits: {
    method: 'a physical base backup + the WAL archive, through pgkeep restore-table',
    why:
      'It recovers a throwaway copy of the cluster to the moment and carries one table back under a new name: the live ' +
      'database keeps running and nothing else in it changes.',
  },
  notThese: [
    {
      method: 'a point-in-time restore of the whole cluster in place',
      why: 'loses every order written since the mistake, and stops production.',
    },
    { method: "last night's pg_dump -t products", why: 'gives the prices of last night: every price change since then is lost.' },
    { method: 'a standby', why: 'replayed the UPDATE within a second.' },
  ],
  prerequisites: {
    postgresqlConf: ARCHIVING_CONF,
    pgHba: REPLICATION_HBA,
    roles: [BACKUP_ROLE, 'the role that runs restore-table needs CREATE in the schema the table comes back into'],
    schedule: 'pgkeep backup nightly; archiving all the time; restore-table by hand when needed',
  },
  copied: [
    { what: 'the whole cluster, into a sandbox', from: 'the repository: the base backup, then the archived WAL up to the moment' },
    { what: 'the one table (schema and rows)', from: 'the sandbox, by pg_dump -t over SQL; loaded into the live database by pg_restore' },
  ],
  commands: ["pgkeep restore-table products --as-of '2026-05-04 10:14:59' --as products_restored"],
  needsClientTools: ['pg_dump', 'pg_restore'],
  run,
};

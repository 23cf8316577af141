/**
 * `pgkeep demo`: a story told in named steps, each with a sentence of narration and its timing.
 * Create a throwaway cluster, load the shop database, look inside with `inspect`, ask `doctor`
 * what backups need, turn on WAL archiving into a pgkeep repository, take a base backup, take
 * more orders, then the accident (DROP TABLE orders), later writes, point-in-time recovery to
 * one second before the drop into a new directory, and the comparison. Then clean up.
 *
 * The use case never prints: it reports each step through `onStep` and returns what every step
 * produced; the CLI renders it.
 */
import { PgkeepError } from '../errors.js';
import { runDoctor } from '../doctor/index.js';
import { inspectCluster } from '../inspect/index.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { SHOP_COUNTS, SHOP_DATABASE, SHOP_DATA_SQL, SHOP_SCHEMA_SQL } from './shop.js';
import type { DemoOptions, DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runShopSession, type KeptCluster } from './shop-session.js';
import type { StepRecord } from './types.js';
import {
  accident,
  compare,
  LATER_CUSTOMERS,
  laterWrites,
  moreOrders,
  NEW_ORDERS,
  recover,
  setUpArchiving,
  takeBackup,
} from './demo-recovery.js';

export type { DemoOptions, DemoStepEvent } from './demo-state.js';
export { NEW_ORDERS, LATER_CUSTOMERS } from './demo-recovery.js';

export type { StepRecord } from './types.js';

export type { KeptCluster } from './shop-session.js';

export interface DemoResult {
  steps: StepRecord[];
  /** --keep: the original cluster (orders dropped)... */
  kept?: KeptCluster;
  /** ... the recovered one, and the directory with the repository. */
  keptRecovered?: KeptCluster;
  keptWorkDir?: string;
}

type DemoStep = NamedStep<DemoState>;

/** The story, in order. */
export const DEMO_STEPS: DemoStep[] = [
  {
    name: 'create-cluster',
    title: 'Create a throwaway PostgreSQL cluster',
    narration: () =>
      'initdb creates a new cluster (one data directory, one server, many databases) with data ' +
      'checksums on; it runs on a free port with its socket in a temporary directory, so nothing else is touched.',
    run: createCluster,
  },
  {
    name: 'load-shop',
    title: 'Load a small "shop" database',
    narration: () =>
      `customers (${SHOP_COUNTS.customers}), products (${SHOP_COUNTS.products}) and orders ` +
      `(${SHOP_COUNTS.orders}) with a view, an index and a function: the data the rest of the story protects.`,
    run: loadShop,
  },
  {
    name: 'inspect',
    title: 'Look inside: pgkeep inspect',
    narration: () =>
      'Everything PostgreSQL knows about its objects lives in system catalogs (pg_database, pg_class, ' +
      'pg_attribute, pg_roles...). inspect reads them: what a backup will have to carry.',
    run: inspectStep,
  },
  {
    name: 'doctor',
    title: 'Is it ready to be backed up? pgkeep doctor',
    narration: () =>
      "doctor checks each backup method against the server's settings, pg_hba.conf and privileges, " +
      'and prints the exact change for anything missing. This fresh cluster has no WAL archiving yet, so the ' +
      'archive checks fail: that is the first thing a DBA would set up for point-in-time recovery.',
    run: doctorStep,
  },
  {
    name: 'archive',
    title: 'Turn on WAL archiving into a pgkeep repository',
    narration: () =>
      'Every change is first written to the WAL, in 16 MB segments. With archive_mode = on, the server ' +
      'hands each finished segment to archive_command, here "pgkeep wal push %p", which compresses it into a repository ' +
      'in a temporary directory. archive_mode needs a restart; pg_switch_wal() then closes the current segment so we ' +
      'can watch the first one arrive.',
    run: setUpArchiving,
  },
  {
    name: 'backup',
    title: 'Take a base backup: pgkeep backup',
    narration: () =>
      'A hot physical backup over the replication protocol (BASE_BACKUP): a copy of every file of the ' +
      'cluster while it keeps running, plus the start and end positions in the WAL. The backup alone restores to its ' +
      'own end; with the archived WAL after it, to any later moment.',
    run: takeBackup,
  },
  {
    name: 'more-orders',
    title: `Business goes on: ${NEW_ORDERS} more orders`,
    narration: () =>
      `${NEW_ORDERS} orders in five transactions. They are not in the base backup: they exist only in ` +
      'the data files of the running server and in its WAL, which the archiver ships to the repository.',
    run: moreOrders,
  },
  {
    name: 'accident',
    title: 'The accident: DROP TABLE orders CASCADE',
    narration: (s) =>
      `A quiet second later, someone runs DROP TABLE orders CASCADE in the wrong terminal (CASCADE also ` +
      `drops the order_totals view). All ${s.ordersBeforeDrop ?? 'the'} orders are gone from the live server. We note the ` +
      "server's clock just before the drop.",
    run: accident,
  },
  {
    name: 'later-writes',
    title: 'Life goes on after the accident',
    narration: () =>
      `Before anyone notices, ${LATER_CUSTOMERS} customers sign up and a price changes. Then ` +
      'pg_switch_wal() and a wait until pg_stat_archiver shows the segment holding the drop in the archive ' +
      '(on a busy server this happens on its own; archive_timeout bounds the wait on a quiet one).',
    run: laterWrites,
  },
  {
    name: 'recover',
    title: 'Point-in-time recovery: pgkeep restore --target-time (one second before the drop)',
    narration: (s) =>
      `pgkeep restore --target-time '${s.targetTime}' --to DIR --archive-mode off --start: pgkeep picks ` +
      'the newest backup that ended before that moment, checks in the archived WAL that the moment is reachable, writes ' +
      "the base backup's files into a new directory, and sets recovery.signal, recovery_target_time and a restore_command " +
      'running "pgkeep wal get" (and, with --archive-mode off, archive_mode = off, so this copy never archives into the ' +
      "original's repository). The server then replays the archived WAL after the backup, transaction by " +
      'transaction, stops before the first commit after the target (the drop), and promotes.',
    run: recover,
  },
  {
    name: 'compare',
    title: 'Compare: what came back, and what did not',
    narration: () =>
      'The recovered cluster next to the original: the orders table (every order from the backup and ' +
      'from the WAL after it) and its view are back; the writes made after the target are not.',
    run: compare,
  },
];

export async function createCluster(s: DemoState): Promise<unknown> {
  // No TCP: the demo cluster trusts local connections, and only its private socket offers them.
  s.cluster = await LocalCluster.create({ pgBin: s.opts.pgBin, dataChecksums: true, listen: '' });
  await s.cluster.start();
  return { version: s.cluster.version, dataDir: s.cluster.dataDir, port: s.cluster.port };
}

export async function loadShop(s: DemoState): Promise<unknown> {
  const c = need(s.cluster);
  await c.exec(`CREATE DATABASE ${SHOP_DATABASE}`);
  await c.exec(SHOP_SCHEMA_SQL, SHOP_DATABASE);
  await c.exec(SHOP_DATA_SQL, SHOP_DATABASE);
  const rows = await c.query<{ customers: string; products: string; orders: string }>(
    'SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM products) AS products, ' +
      '(SELECT count(*) FROM orders) AS orders',
    [],
    SHOP_DATABASE,
  );
  const r = rows[0]!;
  return { customers: Number(r.customers), products: Number(r.products), orders: Number(r.orders) };
}

async function inspectStep(s: DemoState): Promise<unknown> {
  const c = need(s.cluster);
  s.inspect = await inspectCluster(c.connectionSettings(SHOP_DATABASE), { signal: s.opts.signal });
  return s.inspect;
}

async function doctorStep(s: DemoState): Promise<unknown> {
  const c = need(s.cluster);
  s.doctor = await runDoctor(c.connectionSettings(SHOP_DATABASE), { signal: s.opts.signal });
  return s.doctor;
}

function need(c: LocalCluster | undefined): LocalCluster {
  if (!c) throw new PgkeepError('INTERNAL', 'the demo cluster was not created');
  return c;
}

/** Run the story. The cluster is removed at the end, or on failure, unless `keep`. */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const r = await runShopSession(DEMO_STEPS, { opts }, keepCluster);
  const [kept, keptRecovered] = r.kept ?? [];
  return {
    steps: r.steps,
    ...(kept ? { kept: kept.cluster } : {}),
    ...(keptRecovered ? { keptRecovered: keptRecovered.cluster } : {}),
    ...(r.keptWorkDir ? { keptWorkDir: r.keptWorkDir } : {}),
  };
}

/** Leave the cluster running after this process exits, and say how to reach and remove it. */
export function keepCluster(c: LocalCluster, database = SHOP_DATABASE): KeptCluster {
  // LocalCluster stops and removes clusters still alive at process exit. Opt this one out.
  const detachable = c as unknown as { detach?: () => void; destroyed?: boolean };
  if (typeof detachable.detach === 'function') detachable.detach();
  else detachable.destroyed = true;
  const asPostgres = process.getuid?.() === 0 ? 'su postgres -c ' : '';
  const pgCtl = `${c.binDir}/pg_ctl stop -D ${c.dataDir} -m fast`;
  return {
    connection: c.connectionString(database),
    psql: `psql "${c.connectionString(database)}"`,
    dataDir: c.dataDir,
    baseDir: c.baseDir,
    stop: asPostgres ? `${asPostgres}'${pgCtl}'` : pgCtl,
    remove: `rm -rf ${c.baseDir}`,
  };
}

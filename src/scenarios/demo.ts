/**
 * `pgkeep demo`: a story told in named steps, each with a sentence of narration and its timing.
 * For now: create a throwaway cluster, load the shop database, look inside with `inspect`,
 * ask `doctor` what backups would need, then clean up. Later issues add steps (a backup, an
 * accident, point-in-time recovery) to the same list.
 *
 * The use case never prints: it reports each step through `onStep` and returns what every step
 * produced; the CLI renders it.
 */
import { PgkeepError } from '../errors.js';
import { runDoctor, type DoctorReport } from '../doctor/index.js';
import { inspectCluster, type InspectReport } from '../inspect/index.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { SHOP_COUNTS, SHOP_DATABASE, SHOP_DATA_SQL, SHOP_SCHEMA_SQL } from './shop.js';

export interface DemoOptions {
  /** Leave the cluster running at the end (and say how to connect) instead of removing it. */
  keep?: boolean;
  /** Server binaries (default: the newest found). */
  pgBin?: string;
  signal?: AbortSignal;
  /** Called when a step starts, and again when it ends (with `ms` and `result`). */
  onStep?: (event: DemoStepEvent) => void;
}

export interface DemoStepEvent {
  phase: 'start' | 'end';
  index: number;
  total: number;
  name: string;
  title: string;
  narration: string;
  ms?: number;
  result?: unknown;
}

export interface StepRecord {
  name: string;
  title: string;
  narration: string;
  ms: number;
  result?: unknown;
}

export interface KeptCluster {
  connection: string;
  psql: string;
  dataDir: string;
  baseDir: string;
  stop: string;
  remove: string;
}

export interface DemoResult {
  steps: StepRecord[];
  kept?: KeptCluster;
}

interface DemoState {
  opts: DemoOptions;
  cluster?: LocalCluster;
  inspect?: InspectReport;
  doctor?: DoctorReport;
}

interface DemoStep {
  name: string;
  title: string;
  narration: (s: DemoState) => string;
  run: (s: DemoState) => Promise<unknown>;
}

/** The story, in order. */
export const DEMO_STEPS: DemoStep[] = [
  {
    name: 'create-cluster',
    title: 'Create a throwaway PostgreSQL cluster',
    narration: () => 'initdb creates a new cluster (one data directory, one server, many databases) with data ' +
      'checksums on; it runs on a free port with its socket in a temporary directory, so nothing else is touched.',
    run: createCluster,
  },
  {
    name: 'load-shop',
    title: 'Load a small "shop" database',
    narration: () => `customers (${SHOP_COUNTS.customers}), products (${SHOP_COUNTS.products}) and orders ` +
      `(${SHOP_COUNTS.orders}) with a view, an index and a function: the data the rest of the story protects.`,
    run: loadShop,
  },
  {
    name: 'inspect',
    title: 'Look inside: pgkeep inspect',
    narration: () => 'Everything PostgreSQL knows about its objects lives in system catalogs (pg_database, pg_class, ' +
      'pg_attribute, pg_roles...). inspect reads them: what a backup will have to carry.',
    run: inspectStep,
  },
  {
    name: 'doctor',
    title: 'Is it ready to be backed up? pgkeep doctor',
    narration: () => 'doctor checks each backup method against the server\'s settings, pg_hba.conf and privileges, ' +
      'and prints the exact change for anything missing. This fresh cluster has no WAL archiving yet, so the ' +
      'archive checks fail: that is the first thing a DBA would set up for point-in-time recovery.',
    run: doctorStep,
  },
];

async function createCluster(s: DemoState): Promise<unknown> {
  s.cluster = await LocalCluster.create({ pgBin: s.opts.pgBin, dataChecksums: true });
  await s.cluster.start();
  return { version: s.cluster.version, dataDir: s.cluster.dataDir, port: s.cluster.port };
}

async function loadShop(s: DemoState): Promise<unknown> {
  const c = need(s.cluster);
  await c.exec(`CREATE DATABASE ${SHOP_DATABASE}`);
  await c.exec(SHOP_SCHEMA_SQL, SHOP_DATABASE);
  await c.exec(SHOP_DATA_SQL, SHOP_DATABASE);
  const rows = await c.query<{ customers: string; products: string; orders: string }>(
    'SELECT (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM products) AS products, ' +
    '(SELECT count(*) FROM orders) AS orders', [], SHOP_DATABASE);
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
  const state: DemoState = { opts };
  const steps: StepRecord[] = [];
  let ok = false;
  try {
    for (const [i, step] of DEMO_STEPS.entries()) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new PgkeepError('INTERRUPTED', 'interrupted');
      const base = { index: i + 1, total: DEMO_STEPS.length, name: step.name, title: step.title, narration: step.narration(state) };
      opts.onStep?.({ phase: 'start', ...base });
      const t0 = performance.now();
      const result = await step.run(state);
      const ms = Math.round(performance.now() - t0);
      steps.push({ name: step.name, title: step.title, narration: base.narration, ms, result });
      opts.onStep?.({ phase: 'end', ...base, ms, result });
    }
    ok = true;
  } finally {
    if (state.cluster && !(ok && opts.keep)) await state.cluster.destroy();
  }
  return { steps, ...(opts.keep && state.cluster ? { kept: keepCluster(state.cluster) } : {}) };
}

/** Leave the cluster running after this process exits, and say how to reach and remove it. */
function keepCluster(c: LocalCluster): KeptCluster {
  // LocalCluster stops and removes clusters still alive at process exit. Opt this one out.
  const detachable = c as unknown as { detach?: () => void; destroyed?: boolean };
  if (typeof detachable.detach === 'function') detachable.detach();
  else detachable.destroyed = true;
  const asPostgres = process.getuid?.() === 0 ? 'su postgres -c ' : '';
  const pgCtl = `${c.binDir}/pg_ctl stop -D ${c.dataDir} -m fast`;
  return {
    connection: c.connectionString(SHOP_DATABASE),
    psql: `psql "${c.connectionString(SHOP_DATABASE)}"`,
    dataDir: c.dataDir,
    baseDir: c.baseDir,
    stop: asPostgres ? `${asPostgres}'${pgCtl}'` : pgCtl,
    remove: `rm -rf ${c.baseDir}`,
  };
}

/**
 * The second half of the demo: WAL archiving, a base backup, more orders, the accident
 * (DROP TABLE orders), later writes, point-in-time recovery to one second before the drop, and
 * the comparison. Each function is one step of DEMO_STEPS (demo.ts); none prints.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';
import { backup } from '../backup/index.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser, ensureTraversable } from '../pg/server-user.js';
import { Repository } from '../repo/index.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { formatIsoMicros, formatPgTime, parseTargetTime, restore } from '../restore/index.js';
import { shellQuote } from '../shell-quote.js';
import { SHOP_DATABASE } from './shop.js';
import { initS3Repository, isS3Location } from './s07-s3-repository.js';
import type { DemoState } from './demo-state.js';

export const DEMO_REPO_CLUSTER = 'shop';
export const NEW_ORDERS = 50;
export const LATER_CUSTOMERS = 2;

export function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new PgkeepError('INTERNAL', `the demo has no ${what} yet`);
  return v;
}

export async function one<T>(c: LocalCluster, sql: string, db = SHOP_DATABASE): Promise<T> {
  return (await c.query<T>(sql, [], db))[0]!;
}

/**
 * pg_switch_wal(), then wait until the archiver has stored that segment (or a later one). A commit
 * is written first: with no WAL since the last switch, pg_switch_wal() switches nothing and names
 * a segment that would never be archived.
 */
export async function archiveCurrentSegment(c: LocalCluster, signal?: AbortSignal): Promise<string> {
  await c.query('SELECT txid_current()');
  const { f } = await one<{ f: string }>(c, 'SELECT pg_walfile_name(pg_switch_wal()) AS f', 'postgres');
  for (let i = 0; i < 600; i++) {
    signal?.throwIfAborted();
    const a = await one<{ w: string | null; failed: string | null }>(
      c,
      'SELECT last_archived_wal AS w, last_failed_wal AS failed FROM pg_stat_archiver',
      'postgres',
    );
    // Compare log and segment numbers (the timeline prefix may differ after a promotion).
    if (a.w !== null && a.w.slice(8) >= f.slice(8)) return f;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new PgkeepError('SERVER_NOT_READY', `the archiver did not store ${f} within a minute`, {
    hint: `server log ${c.logFile}:\n${c.logTail(10)}`,
  });
}

/**
 * A work directory with a new repository in it (owned by the server's OS user when run as root);
 * with a passphrase, encrypted, the passphrase in a file of its own (s.passphraseFile).
 */
export async function createRepository(s: DemoState, passphrase?: string): Promise<Repository> {
  s.workDir = mkdtempSync(join(tmpdir(), 'pgkeep-demo-'));
  if (passphrase !== undefined) {
    s.passphraseFile = join(s.workDir, 'passphrase');
    writeFileSync(s.passphraseFile, `${passphrase}\n`, { mode: 0o600 });
  }
  if (s.opts.s3) {
    s.repo = await initS3Repository(s, s.opts.s3, passphrase);
  } else {
    s.repoDir = join(s.workDir, 'repo');
    mkdirSync(s.repoDir);
    ensureTraversable(s.repoDir);
    s.repo = await Repository.init(new PosixDriver(s.repoDir), { jobs: 2, ...(passphrase !== undefined ? { passphrase } : {}) });
  }
  // As root, the server (and so archive_command) runs as the postgres OS user: the repository is theirs.
  chownTreeToServerUser(s.workDir);
  return s.repo;
}

export async function setUpArchiving(s: DemoState, passphrase?: string): Promise<unknown> {
  const c = need(s.cluster, 'cluster');
  await createRepository(s, passphrase);
  const repoDir = need(s.repoDir, 'repository');
  const pgkeep = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));
  const secret = s.passphraseFile ? ['--passphrase-file', s.passphraseFile] : [];
  const config = s.repoConfigFile ? ['--config', s.repoConfigFile] : [];
  const command =
    [process.execPath, pgkeep, ...config, '--repo', repoDir, ...secret, '--cluster', DEMO_REPO_CLUSTER].map(shellQuote).join(' ') +
    ' wal push %p';
  await c.query('ALTER SYSTEM SET archive_mode = on');
  await c.query(`ALTER SYSTEM SET archive_command = '${command.replace(/'/g, "''")}'`);
  await c.restart();
  const first = await archiveCurrentSegment(c, s.opts.signal);
  return { repository: repoDir, archiveCommand: command, firstArchived: first };
}

/** A base backup (over the replication protocol by default; `cold` reads a stopped cluster's files). */
export async function takeBackup(s: DemoState, method: 'stream' | 'cold' = 'stream'): Promise<unknown> {
  const c = need(s.cluster, 'cluster');
  const b = await backup({
    repo: need(s.repo, 'repository'),
    clusterName: DEMO_REPO_CLUSTER,
    cluster: c.connectionSettings(),
    method,
    jobs: 2,
    label: 'pgkeep demo',
    signal: s.opts.signal,
  });
  if (!isS3Location(s.repoDir)) chownTreeToServerUser(need(s.repoDir, 'repository'));
  s.backupId = b.snapshotId;
  if (method === 'cold')
    return { id: b.snapshotId, files: b.files, bytes: b.logicalBytes, seconds: b.seconds, pagesChecked: b.pagesChecked };
  const { n } = await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM orders');
  return {
    id: b.snapshotId,
    files: b.files,
    bytes: b.logicalBytes,
    storedBytes: b.storedBytes,
    seconds: b.seconds,
    startLsn: b.startLsn,
    stopLsn: b.stopLsn,
    walStart: b.walStart,
    walEnd: b.walEnd,
    stopTime: b.stopTime,
    orders: n,
  };
}

export async function moreOrders(s: DemoState): Promise<unknown> {
  const c = need(s.cluster, 'cluster');
  // Five transactions of ten orders each, as a shop would take them.
  for (let i = 0; i < NEW_ORDERS / 10; i++) {
    await c.query(
      `INSERT INTO orders (customer_id, product_id, quantity)
      SELECT 1 + (g * 31) % 300, 1 + (g * 17) % 40, 1 + g % 3 FROM generate_series(1, 10) AS g`,
      [],
      SHOP_DATABASE,
    );
  }
  const r = await one<{ n: number; last: string }>(c, 'SELECT count(*)::int AS n, max(ordered_at)::text AS last FROM orders');
  s.ordersBeforeDrop = r.n;
  return { added: NEW_ORDERS, orders: r.n, lastOrderAt: r.last };
}

export async function accident(s: DemoState): Promise<unknown> {
  const c = need(s.cluster, 'cluster');
  // A quiet moment, so that "one second before the drop" comes after the last order.
  await new Promise((r) => setTimeout(r, 1200));
  const { t } = await one<{ t: string }>(c, 'SELECT clock_timestamp()::text AS t');
  await c.exec('DROP TABLE orders CASCADE', SHOP_DATABASE);
  const drop = parseTargetTime(t);
  const target = drop.micros - 1_000_000n;
  s.dropTime = drop.iso;
  s.targetTime = formatIsoMicros(target);
  const { gone } = await one<{ gone: boolean }>(c, "SELECT to_regclass('orders') IS NULL AS gone");
  return { droppedAt: t, dropTime: drop.iso, target: formatPgTime(target), targetIso: s.targetTime, ordersGone: gone };
}

export async function laterWrites(s: DemoState): Promise<unknown> {
  const c = need(s.cluster, 'cluster');
  await c.query(
    `INSERT INTO customers (name, email, city)
    SELECT 'Late customer ' || g, 'late' || g || '@example.com', 'Oslo' FROM generate_series(1, ${LATER_CUSTOMERS}) AS g`,
    [],
    SHOP_DATABASE,
  );
  await c.query('UPDATE products SET price = price + 1 WHERE id = 1', [], SHOP_DATABASE);
  const archived = await archiveCurrentSegment(c, s.opts.signal);
  const r = await one<{ customers: number; price: string }>(
    c,
    'SELECT (SELECT count(*)::int FROM customers) AS customers, (SELECT price::text FROM products WHERE id = 1) AS price',
  );
  return { customers: r.customers, product1Price: r.price, archivedThrough: archived };
}

export async function recover(s: DemoState): Promise<unknown> {
  const dir = join(need(s.workDir, 'work directory'), 'recovered');
  const r = await restore({
    repo: need(s.repo, 'repository'),
    cluster: DEMO_REPO_CLUSTER,
    to: dir,
    jobs: 2,
    access: { repo: need(s.repoDir, 'repository'), cluster: DEMO_REPO_CLUSTER },
    pitr: { target: { kind: 'time', time: parseTargetTime(need(s.targetTime, 'target')) }, action: 'promote', timeline: 'latest' },
    // The copy must not archive into the original's archive: its WAL would start a second history there.
    archiveMode: 'off',
    start: true,
    sync: false,
    signal: s.opts.signal,
    onStarted: (c) => {
      s.recovered = c;
    },
  });
  s.restore = r;
  const log = readFileSync(need(s.recovered, 'recovered cluster').logFile, 'utf8');
  const replayed = [...log.matchAll(/restored log file "([0-9A-F]{24})" from archive/g)].map((m) => m[1]!);
  return {
    dataDir: r.dataDir,
    backup: r.snapshotId,
    reason: r.pitr?.reason,
    target: r.pitr?.target?.value,
    files: r.stats.files,
    bytes: r.stats.bytes,
    restoreSeconds: r.seconds,
    walSegments: [...new Set(replayed)],
    recoverySeconds: r.recoveryEnd?.seconds,
    stoppedAt: r.recoveryEnd?.stoppedAt,
    timeline: r.recoveryEnd?.timeline,
    port: r.started?.port,
  };
}

interface ShopFacts {
  orders: number | null;
  orderTotalsView: boolean;
  customers: number;
  product1Price: string;
}

async function shopFacts(c: LocalCluster): Promise<ShopFacts> {
  const r = await one<{ orders: boolean; view: boolean; customers: number; price: string }>(
    c,
    "SELECT to_regclass('orders') IS NOT NULL AS orders, to_regclass('order_totals') IS NOT NULL AS view, " +
      '(SELECT count(*)::int FROM customers) AS customers, (SELECT price::text FROM products WHERE id = 1) AS price',
  );
  const orders = r.orders ? (await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM orders')).n : null;
  return { orders, orderTotalsView: r.view, customers: r.customers, product1Price: r.price };
}

export async function compare(s: DemoState): Promise<unknown> {
  const original = await shopFacts(need(s.cluster, 'cluster'));
  const recovered = await shopFacts(need(s.recovered, 'recovered cluster'));
  return { original, recovered, ordersBeforeDrop: s.ordersBeforeDrop, everyOrderBack: recovered.orders === s.ordersBeforeDrop };
}

/**
 * WAL on PostgreSQL 13 end to end, one real 13 server (npm package embedded-pg-13; client tools
 * are 15's): `wal stream` through a replication slot (13 has no READ_REPLICATION_SLOT, the slot is
 * read over SQL), archiving with `wal push` as archive_command, `wal get` and
 * `wal check --read-data` as the CLI, and a point-in-time recovery to a time between two commits
 * (the planner reads 13's WAL records). 14 has the same protocol and runs in the per-major matrix.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../pg/local-cluster.js';
import { DEFAULT_WAL_SEGMENT_SIZE, parseLsn } from '../pg/lsn.js';
import { walFileStartLsn } from '../pg/wal-name.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { backup } from '../backup/index.js';
import { restore } from '../restore/index.js';
import { parseTargetTime, waitForRecoveryEnd } from '../restore/pitr/index.js';
import { archivingSource, batch, rejectsWithCode, sum, switchAndWait } from '../test-support/archiving-source.js';
import { runPgkeep } from '../test-support/cli.js';
import { REPLICATION_SOURCE } from '../backup/test-support.js';
import { walObjectName } from '../holdings/index.js';
import { streamWal, type StreamEvent, type StreamWalOptions, type StreamWalResult } from './stream/index.js';
import { WalRecordScanner, type WalEvent } from '../restore/pitr/index.js';

const PG13_BIN = join(process.cwd(), 'node_modules', 'embedded-pg-13', 'native', 'bin');
const SLOT = 'pgkeep_13';
let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
let systemId: string;
const started: LocalCluster[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-wal-pg13-'));
  ({ repoDir, repo, src } = await archivingSource(work, 1000, {
    pgBin: PG13_BIN,
    hba: REPLICATION_SOURCE.hba,
    settings: { max_replication_slots: 4, max_prepared_transactions: 2 },
  }));
  systemId = (await src.query<{ s: string }>('SELECT system_identifier::text AS s FROM pg_control_system()'))[0]!.s;
});

after(async () => {
  for (const c of started) await c.destroy().catch(() => {});
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Run the receiver into `into` until `until` resolves; its events and result. */
async function receive(
  into: Repository,
  opts: Partial<StreamWalOptions>,
  until: (events: StreamEvent[]) => Promise<void>,
): Promise<{ events: StreamEvent[]; result: StreamWalResult }> {
  const controller = new AbortController();
  const events: StreamEvent[] = [];
  const done = streamWal({
    repo: into,
    cluster: 'test',
    connection: src.connectionSettings(),
    slot: SLOT,
    partial: { intervalMs: 300 },
    progressIntervalMs: 200,
    signal: controller.signal,
    onEvent: (e) => events.push(e),
    ...opts,
  });
  try {
    await Promise.race([until(events), done.then(() => assert.fail('the receiver ended by itself'))]);
  } finally {
    controller.abort();
  }
  return { events, result: await done };
}

/** Wait (at most 60 s) until the receiver has sent an event that `pred` accepts. */
async function seen(events: StreamEvent[], what: string, pred: (e: StreamEvent) => boolean): Promise<void> {
  for (const deadline = Date.now() + 60_000; !events.some(pred); ) {
    if (Date.now() > deadline) assert.fail(`no ${what} within 60 s; events: ${events.map((e) => e.type).join(',')}`);
    await sleep(50);
  }
}

async function slotRestartLsn(): Promise<bigint | null> {
  const rows = await src.query<{ l: string | null }>('SELECT restart_lsn::text AS l FROM pg_replication_slots WHERE slot_name = $1', [
    SLOT,
  ]);
  assert.equal(rows.length, 1, `slot ${SLOT} exists`);
  return rows[0]!.l === null ? null : parseLsn(rows[0]!.l);
}

test('PostgreSQL 13: wal stream --slot creates the slot, stores segments byte-identical to pg_wal, moves the slot; a second run resumes at the slot', async () => {
  assert.equal(src.major, 13);
  const streamDir = join(work, 'stream-repo');
  mkdirSync(streamDir);
  const streamRepo = await newPosixRepo(streamDir);
  try {
    // without --create-slot a missing slot is refused, before anything is streamed
    await rejectsWithCode(
      streamWal({ repo: streamRepo, cluster: 'test', connection: src.connectionSettings(), slot: SLOT }),
      'NOT_FOUND',
      /no replication slot "pgkeep_13"/,
    );
    const names: string[] = [];
    const first = await receive(streamRepo, { createSlot: true }, async (events) => {
      await seen(events, 'start', (e) => e.type === 'start');
      for (let i = 0; i < 2; i++) {
        await batch(src, 10_000 + i * 1000, 1000, `stream${i}`);
        names.push(await switchAndWait(src));
      }
      await seen(events, `segment ${names[1]}`, (e) => e.type === 'segment' && e.file === names[1]);
    });
    assert.ok(
      first.events.some((e) => e.type === 'slot-created' && e.slot === SLOT),
      'the slot was created',
    );
    const start = first.events.find((e) => e.type === 'start');
    assert.equal(start?.type === 'start' && start.source, 'slot');
    for (const n of names) {
      const got = await streamRepo.getObject(walObjectName('test', systemId, n));
      assert.ok(got.equals(readFileSync(join(src.dataDir, 'pg_wal', n))), `${n} as streamed equals pg_wal/${n}`);
    }
    // the receiver's flush reports moved the slot past the segments it stored
    const restart = await slotRestartLsn();
    const end = walFileStartLsn(names[1]!) + BigInt(DEFAULT_WAL_SEGMENT_SIZE);
    assert.ok(restart !== null && restart >= end, `slot restart_lsn ${restart} is at or after the end of ${names[1]} (${end})`);

    // the slot exists now: read over SQL on 13, streaming resumes after what the repository holds
    const second = await receive(streamRepo, { createSlot: false }, async (events) => {
      await seen(events, 'start', (ev) => ev.type === 'start');
      await batch(src, 20_000, 1000, 'stream2');
      const next = await switchAndWait(src);
      await seen(events, `segment ${next}`, (ev) => ev.type === 'segment' && ev.file === next);
    });
    assert.ok(!second.events.some((ev) => ev.type === 'slot-created'));
    const again = second.events.find((ev) => ev.type === 'start');
    assert.equal(again?.type === 'start' && again.source, 'repository');
    assert.ok(second.result.segmentsStored >= 1);
  } finally {
    await streamRepo.close();
  }
});

test('PostgreSQL 13: a replication role whose connection names no database (libpq then asks for one named as the role) still reads its slot', async () => {
  await src.exec('CREATE ROLE replicator LOGIN REPLICATION');
  const conn = src.connectionString('postgres', 'replicator').replace(/ dbname=\S+/, '');
  assert.doesNotMatch(conn, /dbname/);
  const dir = join(work, 'role-repo');
  mkdirSync(dir);
  const roleRepo = await newPosixRepo(dir);
  try {
    const { events } = await receive(roleRepo, { connection: { connection: conn } }, async (ev) => {
      await seen(ev, 'start', (e) => e.type === 'start');
    });
    const start = events.find((e) => e.type === 'start');
    assert.equal(start?.type === 'start' && start.source, 'slot');
  } finally {
    await roleRepo.close();
  }
});

test('PostgreSQL 13: a role pg_hba.conf admits for replication only fails at once (CONNECTION), saying why a normal connection is needed', async () => {
  await src.exec('CREATE ROLE replonly LOGIN REPLICATION');
  await src.configure({}, ['local all replonly reject']);
  await src.reload();
  const err = await rejectsWithCode(
    streamWal({ repo, cluster: 'test', connection: { connection: src.connectionString('postgres', 'replonly') }, slot: SLOT }),
    'CONNECTION',
    /cannot read replication slot "pgkeep_13".*rejects connection/,
  );
  assert.match(err.hint ?? '', /PostgreSQL 13 has no READ_REPLICATION_SLOT.*pg_hba\.conf/);
});

test('PostgreSQL 13: wal stream --synchronous is a synchronous standby: a commit returns once a .partial holding it is stored', async () => {
  const dir = join(work, 'sync-repo');
  mkdirSync(dir);
  const syncRepo = await newPosixRepo(dir);
  const appName = 'pgkeep13';
  let xid = '';
  try {
    await receive(syncRepo, { synchronous: true, applicationName: appName }, async (events) => {
      await seen(events, 'start', (e) => e.type === 'start');
      await src.exec(`ALTER SYSTEM SET synchronous_standby_names = '${appName}'`);
      await src.exec('SELECT pg_reload_conf()');
      try {
        for (const deadline = Date.now() + 30_000; ; ) {
          const [r] = await src.query<{ s: string | null }>(
            'SELECT max(sync_state) AS s FROM pg_stat_replication WHERE application_name = $1',
            [appName],
          );
          if (r!.s === 'sync') break;
          if (Date.now() > deadline) assert.fail(`the receiver did not become the synchronous standby in 30 s (sync_state ${r!.s})`);
          await sleep(100);
        }
        const commit = src.query<{ x: string }>(
          "WITH ins AS (INSERT INTO t SELECT g, 'sync-' || g FROM generate_series(60000, 60009) g RETURNING 1) SELECT txid_current()::text AS x FROM ins LIMIT 1",
        );
        const [row] = await Promise.race([commit, sleep(30_000).then(() => assert.fail('the commit waited 30 s for the receiver'))]);
        xid = row!.x;
      } finally {
        await src.exec('ALTER SYSTEM RESET synchronous_standby_names');
        await src.exec('SELECT pg_reload_conf()');
      }
      // the flush the server waited for was a stored .partial: it holds the commit record
      const partial = events.filter((e) => e.type === 'partial').at(-1);
      assert.ok(partial?.type === 'partial', 'a .partial was uploaded before the commit returned');
      const found: WalEvent[] = [];
      const scanner = new WalRecordScanner((e) => found.push(e));
      const name = partial.file.replace('.partial', '');
      scanner.segment(await syncRepo.getObject(walObjectName('test', systemId, partial.file)), walFileStartLsn(name));
      assert.ok(
        found.some((e) => e.kind === 'commit' && String(e.xid) === xid),
        `commit of ${xid} is in ${partial.file}`,
      );
    });
  } finally {
    await syncRepo.close();
  }
});

test('PostgreSQL 13: segments archived by wal push come back byte-identical with wal get, and wal check --read-data passes', async () => {
  await batch(src, 30_000, 2000, 'push');
  const seg = await switchAndWait(src);
  const cli = (args: string[]) => runPgkeep(['--repo', repoDir, '--cluster', 'test', ...args]);
  const out = join(work, 'got', seg);
  mkdirSync(join(work, 'got'));
  const get = await cli(['wal', 'get', seg, out]);
  assert.equal(get.code, 0, get.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(src.dataDir, 'pg_wal', seg))), `${seg} from wal get equals pg_wal/${seg}`);
  const check = await cli(['--json', 'wal', 'check', '--read-data']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const report = JSON.parse(check.stdout) as { ok: boolean; damaged: unknown[]; filesRead: number };
  assert.deepEqual(report.damaged, [], check.stdout);
  assert.ok(report.ok && report.filesRead >= 2, `every archived file was read and checked: ${check.stdout}`);
});

test("PostgreSQL 13: the PITR scanner reads 13's records from an archived segment: prepared and plain commits and aborts, a restore point", async () => {
  const [{ seg }] = (await src.query<{ seg: string }>('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS seg')) as [{ seg: string }];
  await src.exec("BEGIN; INSERT INTO t VALUES (70000, 'p1'); PREPARE TRANSACTION 'p1'");
  await src.exec("COMMIT PREPARED 'p1'");
  await src.exec("BEGIN; INSERT INTO t VALUES (70001, 'p2'); PREPARE TRANSACTION 'p2'");
  await src.exec("ROLLBACK PREPARED 'p2'");
  await src.exec("BEGIN; INSERT INTO t VALUES (70002, 'rolled back'); ROLLBACK");
  await src.exec("SELECT pg_create_restore_point('on_13')");
  await src.exec("INSERT INTO t VALUES (70003, 'last')");
  const now = BigInt(Date.now()) * 1000n;
  assert.equal(await switchAndWait(src), seg);
  const events: WalEvent[] = [];
  new WalRecordScanner((e) => events.push(e)).segment(await repo.getObject(walObjectName('test', systemId, seg)), walFileStartLsn(seg));
  const kinds = events.map((e) => (e.kind === 'restore-point' ? `restore-point ${e.name}` : `${e.kind}${e.prepared ? ' prepared' : ''}`));
  // in this order (autovacuum may commit in between)
  let at = 0;
  for (const want of ['commit prepared', 'abort prepared', 'abort', 'restore-point on_13', 'commit']) {
    at = kinds.indexOf(want, at) + 1;
    assert.ok(at > 0, `${want} after the previous one in: ${kinds.join(', ')}`);
  }
  for (const e of events.slice(-3)) assert.ok(e.time > now - 60_000_000n && e.time < now + 60_000_000n, `${e.kind} time ${e.time} is now`);
});

test('PostgreSQL 13: point-in-time recovery to a time between two commits replays the first and not the second', async () => {
  const b = await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 2 });
  chownTreeToServerUser(repoDir);
  await batch(src, 40_000, 100, 'before');
  const expected = await sum(src);
  const [mark] = await src.query<{ t: string }>('SELECT clock_timestamp()::text AS t');
  await sleep(20);
  await batch(src, 50_000, 100, 'after');
  await switchAndWait(src);
  assert.notEqual(await sum(src), expected);

  const to = join(work, 'pitr');
  const target = parseTargetTime(mark!.t);
  const r = await restore({
    repo,
    cluster: 'test',
    to,
    jobs: 2,
    access: { repo: repoDir, cluster: 'test' },
    archiveMode: 'off',
    pitr: { target: { kind: 'time', time: target } },
  });
  assert.equal(r.pitr?.snapshotId, b.snapshotId);
  assert.ok(r.pitr?.reach?.lastTransaction, "the planner read the last archived commit from 13's WAL");
  assert.equal(r.recovery.settings.recovery_target_time, target.text);
  // restore --start looks for 13's binaries in the usual places; this test knows where they are
  const c = await LocalCluster.attach(to, { pgBin: PG13_BIN, listen: '' });
  started.push(c);
  await c.start({ wait: false });
  const end = await waitForRecoveryEnd(c, 'promote');
  assert.equal(end.state, 'promoted');
  assert.match(end.stoppedAt ?? '', /recovery stopping before commit of transaction/);
  assert.equal(await sum(c), expected);
});

/**
 * The streaming receiver against a real server, in process: segments byte-identical to pg_wal,
 * .partial uploads and a clean stop, resuming after the archive, surviving a server restart,
 * a slot that moves only once WAL is stored, and following a promotion to timeline 2.
 * (Killing the CLI with SIGKILL/SIGTERM is in stream-cli.test.ts.)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../../pg/local-cluster.js';
import { chownTreeToServerUser } from '../../pg/server-user.js';
import { DEFAULT_WAL_SEGMENT_SIZE, formatLsn, parseLsn, segmentStartLsn } from '../../pg/lsn.js';
import { historyFileName, parseWalFileName, segmentNumberOf, walFileName } from '../../pg/wal-name.js';
import { initRepository } from '../../repo/index.js';
import { walObjectName } from '../../holdings/wal-layout.js';
import { listArchive } from '../../holdings/wal-listing.js';
import { streamWal, type StreamEvent, type StreamWalOptions, type StreamWalResult } from './index.js';
import type { StreamRepo } from './store.js';
import { dropSlotWhenFree } from '../../test-support/drop-slot.js';

const SEG = DEFAULT_WAL_SEGMENT_SIZE;
const CLUSTER = 'main';
let cluster: LocalCluster;
let repo: Awaited<ReturnType<typeof initRepository>>;
let workDir: string;
let systemId: string;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'pgkeep-stream-'));
  cluster = await LocalCluster.create({
    settings: {
      wal_level: 'replica',
      max_wal_senders: 10,
      max_replication_slots: 5,
      wal_keep_size: '1GB',
      fsync: false,
      wal_sender_timeout: '60s',
    },
    hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
  });
  await cluster.start();
  await cluster.exec('CREATE TABLE t (id serial primary key, payload text)');
  repo = await initRepository({ path: join(workDir, 'repo') }, { compression: 'zstd:1' });
  systemId = (await cluster.query<{ s: string }>('SELECT system_identifier::text AS s FROM pg_control_system()'))[0]!.s;
});

after(async () => {
  await repo?.closeAll();
  await cluster?.destroy();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface Receiver {
  events: StreamEvent[];
  done: Promise<StreamWalResult>;
  stop(): Promise<StreamWalResult>;
  waitFor<E extends StreamEvent['type']>(
    type: E,
    pred?: (e: Extract<StreamEvent, { type: E }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<StreamEvent, { type: E }>>;
}

function startReceiver(extra: Partial<StreamWalOptions> = {}, onEvent?: (e: StreamEvent) => void): Receiver {
  const controller = new AbortController();
  const events: StreamEvent[] = [];
  const done = streamWal({
    repo,
    cluster: CLUSTER,
    connection: cluster.connectionSettings(),
    partial: { intervalMs: 300 },
    progressIntervalMs: 200,
    backoff: { initialMs: 200, maxMs: 1000 },
    signal: controller.signal,
    onEvent: (e) => {
      events.push(e);
      onEvent?.(e);
    },
    ...extra,
  });
  done.catch(() => {});
  return {
    events,
    done,
    async stop() {
      controller.abort();
      return done;
    },
    async waitFor(type, pred = () => true, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (let seen = 0; ; ) {
        for (; seen < events.length; seen++) {
          const e = events[seen]!;
          if (e.type === type && pred(e as never)) return e as never;
        }
        const failed = await Promise.race([
          done.then(
            () => 'ended',
            (err) => err,
          ),
          sleep(50).then(() => undefined),
        ]);
        if (failed instanceof Error) throw failed;
        if (failed === 'ended' && seen >= events.length) throw new Error(`receiver ended before a ${type} event`);
        if (Date.now() > deadline)
          throw new Error(`no ${type} event within ${timeoutMs} ms; events: ${events.map((x) => x.type).join(',')}`);
      }
    },
  };
}

/** Write some WAL, then switch to a new segment; returns the name of the segment just finished. */
async function fillAndSwitch(rows = 500): Promise<string> {
  await cluster.exec(`INSERT INTO t (payload) SELECT repeat(md5(g::text), 4) FROM generate_series(1, ${rows}) g`);
  const [r] = await cluster.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name');
  await cluster.exec('SELECT pg_switch_wal()');
  return r!.name;
}

async function stored(name: string): Promise<Buffer> {
  return repo.getObject(walObjectName(CLUSTER, systemId, name));
}

function serverFile(name: string): Buffer {
  return readFileSync(join(cluster.dataDir, 'pg_wal', name));
}

/** Complete segments stored for a timeline, as segment numbers in order. */
async function storedSegments(tli: number): Promise<bigint[]> {
  const sys = (await listArchive(repo, CLUSTER)).get(systemId);
  return (sys?.files ?? [])
    .filter((f) => f.file.kind === 'segment' && f.file.timeline === tli)
    .map((f) => segmentNumberOf(f.file, SEG))
    .sort((a, b) => (a < b ? -1 : 1));
}

function assertContinuous(segs: bigint[], what: string): void {
  for (let i = 1; i < segs.length; i++) assert.equal(segs[i], segs[i - 1]! + 1n, `${what}: gap after segment ${segs[i - 1]}`);
}

test('stores segments byte-identical to pg_wal, keeps a .partial, and stops cleanly', async () => {
  const rx = startReceiver();
  const start = await rx.waitFor('start');
  assert.equal(start.source, 'server');
  assert.equal(start.timeline, 1);
  assert.ok(rx.events.some((e) => e.type === 'no-slot-warning'));
  const names: string[] = [];
  for (let i = 0; i < 3; i++) names.push(await fillAndSwitch());
  for (const n of names) await rx.waitFor('segment', (e) => e.file === n);
  for (const n of names) {
    const a = await stored(n);
    assert.equal(a.length, SEG);
    assert.ok(a.equals(serverFile(n)), `${n} differs from pg_wal/${n}`);
  }
  // WAL of the segment in progress arrives as .partial
  await cluster.exec(`INSERT INTO t (payload) SELECT 'partial ' || g FROM generate_series(1, 200) g`);
  const [pos] = await cluster.query<{ name: string; lsn: string }>(
    'SELECT pg_walfile_name(pg_current_wal_flush_lsn()) AS name, pg_current_wal_flush_lsn()::text AS lsn',
  );
  const partial = await rx.waitFor('partial', (e) => e.file === `${pos!.name}.partial` && e.upTo >= parseLsn(pos!.lsn));
  const p = await stored(partial.file);
  assert.equal(p.length, SEG);
  const used = Number(partial.upTo - segmentStartLsn(segmentNumberOf(pos!.name, SEG), SEG));
  assert.ok(p.subarray(0, used).equals(serverFile(pos!.name).subarray(0, used)), '.partial holds what the server wrote');
  assert.ok(
    p.subarray(used).every((b) => b === 0),
    '.partial is padded with zeros',
  );

  const progress = rx.events.filter((e): e is Extract<StreamEvent, { type: 'progress' }> => e.type === 'progress');
  assert.ok(progress.length > 0 && progress.every((e) => e.flushedLsn <= e.receivedLsn));

  const result = await rx.stop();
  assert.equal(result.systemId, systemId);
  assert.ok(result.segmentsStored >= 3);
  assert.equal(result.lastPartial, `${pos!.name}.partial`);
  assert.equal(result.flushedLsn, segmentStartLsn(segmentNumberOf(pos!.name, SEG), SEG), 'flush = end of the last complete segment');
  assert.ok(rx.events.at(-1)?.type === 'stopped');
  // completing a segment deletes its .partial
  for (const n of names) await assert.rejects(stored(`${n}.partial`));
});

test('resumes after the archive and survives a server restart with no gap', async () => {
  const before = await storedSegments(1);
  const rx = startReceiver();
  const start = await rx.waitFor('start');
  assert.equal(start.source, 'repository');
  assert.equal(start.lsn, segmentStartLsn(before.at(-1)! + 1n, SEG), 'starts right after the last stored segment');
  const first = await fillAndSwitch();
  await rx.waitFor('segment', (e) => e.file === first);

  await cluster.restart();
  await rx.waitFor('disconnected');
  const again = await rx.waitFor('start', (e) => e.source === 'reconnect');
  assert.equal(again.timeline, 1);
  const names: string[] = [];
  for (let i = 0; i < 2; i++) names.push(await fillAndSwitch());
  for (const n of names) await rx.waitFor('segment', (e) => e.file === n);
  const result = await rx.stop();
  assert.ok(result.reconnects >= 1);
  const after = await storedSegments(1);
  assertContinuous(after, 'timeline 1');
  assert.ok(after.at(-1)! >= segmentNumberOf(names.at(-1)!, SEG));
  for (const n of names) assert.ok((await stored(n)).equals(serverFile(n)), `${n} differs from pg_wal`);
});

test('the slot moves only once the segment is stored', async () => {
  // a repository whose complete-segment writes wait for the test to let them through
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let blocked: ((name: string) => void) | undefined;
  const blockedName = new Promise<string>((r) => (blocked = r));
  const gated: StreamRepo = {
    location: repo.location,
    codec: repo.codec,
    getObject: (n) => repo.getObject(n),
    statObject: (n) => repo.statObject(n),
    listObjects: (p) => repo.listObjects(p),
    deleteObject: (n) => repo.deleteObject(n),
    putObject: async (n, d, o) => {
      const f = n.split('/').at(-1)!;
      if (/^[0-9A-F]{24}$/.test(f) && o?.ifAbsent) {
        blocked?.(f);
        blocked = undefined;
        await gate;
      }
      return repo.putObject(n, d, o);
    },
  };
  const slotLsn = async (): Promise<bigint | null> => {
    const [r] = await cluster.query<{ l: string | null }>(
      `SELECT restart_lsn::text AS l FROM pg_replication_slots WHERE slot_name = 'pgkeep_t'`,
    );
    return r?.l ? parseLsn(r.l) : null;
  };
  const rx = startReceiver({ repo: gated, slot: 'pgkeep_t', createSlot: true });
  await rx.waitFor('slot-created');
  const start = await rx.waitFor('start');
  assert.equal(start.source, 'repository');
  const name = await fillAndSwitch();
  assert.equal(await blockedName, name);
  const segEnd = segmentStartLsn(segmentNumberOf(name, SEG) + 1n, SEG);
  // received (the write is in progress) but not stored: the slot must not pass the segment's start
  await sleep(500);
  const held = await slotLsn();
  assert.ok(held !== null && held < segEnd, `slot at ${held === null ? 'null' : formatLsn(held)} before the segment was stored`);
  release();
  await rx.waitFor('segment', (e) => e.file === name);
  let moved: bigint | null = null;
  for (let i = 0; i < 100 && !(moved !== null && moved >= segEnd); i++) {
    await sleep(100);
    moved = await slotLsn();
  }
  assert.ok(moved !== null && moved >= segEnd, `slot moved to ${moved === null ? 'null' : formatLsn(moved)} after storage`);
  await rx.stop();
  await dropSlotWhenFree(cluster, 'pgkeep_t');
});

test('follows a promotion to timeline 2: history stored, old timeline ends as .partial', async () => {
  const rx = startReceiver();
  await rx.waitFor('start');
  const last1 = await fillAndSwitch();
  await rx.waitFor('segment', (e) => e.file === last1);
  await cluster.exec(`INSERT INTO t (payload) SELECT 'before promotion ' || g FROM generate_series(1, 100) g`);
  // restart as a standby with no primary, then promote: timeline 2
  await cluster.stop('fast');
  const signalFile = join(cluster.dataDir, 'standby.signal');
  writeFileSync(signalFile, '');
  chownTreeToServerUser(signalFile);
  await cluster.start();
  await cluster.promote();
  for (let i = 0; i < 100; i++) {
    const [r] = await cluster.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    if (!r!.r) break;
    await sleep(100);
  }
  const names: string[] = [];
  for (let i = 0; i < 2; i++) names.push(await fillAndSwitch());
  assert.ok(names.every((n) => n.startsWith('00000002')));
  for (const n of names) await rx.waitFor('segment', (e) => e.file === n, 90_000);
  const result = await rx.stop();
  assert.equal(result.timeline, 2);

  // the history file, as the server has it
  const hist = await stored(historyFileName(2));
  assert.ok(hist.equals(readFileSync(join(cluster.dataDir, 'pg_wal', historyFileName(2)))));
  const switchpoint = parseLsn(hist.toString().split('\t')[1]!);
  const switchSeg = switchpoint / BigInt(SEG);
  // timeline 2 segments from the switch segment on, identical to pg_wal, no gap
  const t2 = await storedSegments(2);
  assert.equal(t2[0], switchSeg);
  assertContinuous(t2, 'timeline 2');
  for (const s of t2) {
    const n = walFileName(2, s, SEG);
    assert.ok((await stored(n)).equals(serverFile(n)), `${n} differs from pg_wal`);
  }
  // timeline 1 continuous up to the segment before the switch; that one stays as .partial
  const t1 = await storedSegments(1);
  assertContinuous(t1, 'timeline 1');
  assert.equal(t1.at(-1), switchSeg - 1n);
  if (switchpoint % BigInt(SEG) !== 0n) {
    const oldPartial = await stored(`${walFileName(1, switchSeg, SEG)}.partial`);
    const used = Number(switchpoint % BigInt(SEG));
    assert.ok(
      oldPartial.subarray(0, used).equals(serverFile(walFileName(2, switchSeg, SEG)).subarray(0, used)),
      "the old timeline's .partial holds the WAL up to the switchpoint",
    );
  }
  assert.ok(rx.events.some((e) => e.type === 'history' && e.file === historyFileName(2)));
  assert.ok(rx.events.some((e) => e.type === 'timeline-switch' && e.from === 1 && e.to === 2 && e.switchpoint === switchpoint));
  assert.ok(
    rx.events.some((e) => e.type === 'start' && e.source === 'timeline-switch' && e.timeline === 2 && e.lsn === switchSeg * BigInt(SEG)),
  );
  assert.deepEqual(parseWalFileName(historyFileName(2)).timeline, 2);
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PgkeepError } from '../../errors.js';
import { LocalCluster } from '../local-cluster.js';
import { chownTreeToServerUser } from '../server-user.js';
import { formatLsn, parseLsn, segmentFloor, DEFAULT_WAL_SEGMENT_SIZE } from '../lsn.js';
import { parseTimelineHistory, walFileNameForLsn } from '../wal-name.js';
import { parseBackupManifest } from './backup-manifest.js';
import { verifyManifestEntries } from './manifest-verify.js';
import { ReplicationClient } from './replication-client.js';
import type { WalStream } from './wal-stream.js';
import { consumeBackup } from './test-consume-backup.js';

let cluster: LocalCluster;
let tablespaceOid: number;
const SEG = DEFAULT_WAL_SEGMENT_SIZE;

before(async () => {
  cluster = await LocalCluster.create({
    settings: { wal_level: 'replica', max_wal_senders: 5, max_replication_slots: 5, fsync: false },
    hba: [
      'host replication scram_user 127.0.0.1/32 scram-sha-256',
      'local replication all trust',
      'host replication all 127.0.0.1/32 trust',
    ],
  });
  await cluster.start();
  const tsDir = join(cluster.baseDir, 'ts1');
  mkdirSync(tsDir);
  chownTreeToServerUser(tsDir);
  await cluster.exec(`CREATE TABLESPACE ts1 LOCATION '${tsDir}'`);
  await cluster.exec(`CREATE DATABASE app`);
  await cluster.exec(
    `
    CREATE TABLE small (id int primary key, note text);
    INSERT INTO small SELECT g, 'row ' || g FROM generate_series(1, 1000) g;
    CREATE TABLE in_ts (id int, payload text) TABLESPACE ts1;
    INSERT INTO in_ts SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g;
    CREATE UNLOGGED TABLE scratch (id int);
    INSERT INTO scratch SELECT generate_series(1, 100);
  `,
    'app',
  );
  await cluster.exec(`CREATE ROLE scram_user LOGIN REPLICATION PASSWORD 'scram-secret'`);
  tablespaceOid = Number((await cluster.query<{ oid: string }>(`SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'`))[0]!.oid);
});

after(async () => {
  await cluster?.destroy();
});

async function withReplication<T>(fn: (rc: ReplicationClient) => Promise<T>): Promise<T> {
  const rc = await ReplicationClient.connect(cluster.connectionSettings());
  try {
    return await fn(rc);
  } finally {
    await rc.close();
  }
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

test('IDENTIFY_SYSTEM and SHOW match what SQL says', async () => {
  await withReplication(async (rc) => {
    const id = await rc.identifySystem();
    const [ctl] = await cluster.query<{ system_identifier: string }>('SELECT system_identifier::text FROM pg_control_system()');
    const [tli] = await cluster.query<{ timeline_id: number }>('SELECT timeline_id FROM pg_control_checkpoint()');
    const [pos] = await cluster.query<{ lsn: string }>('SELECT pg_current_wal_flush_lsn()::text AS lsn');
    assert.equal(id.systemId, ctl!.system_identifier);
    assert.equal(id.timeline, tli!.timeline_id);
    assert.ok(id.xlogpos <= parseLsn(pos!.lsn));
    assert.equal(id.dbname, null);
    assert.equal(await rc.showSetting('wal_segment_size'), '16MB');
    assert.equal(await rc.showSetting('wal_level'), 'replica');
    const [v] = await cluster.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
    assert.equal(rc.serverVersionNum, Number(v!.v));
    await assert.rejects(rc.showSetting('no_such_setting'), PgkeepError);
    // the connection stays usable after a failed command
    assert.equal((await rc.identifySystem()).systemId, ctl!.system_identifier);
  });
});

test('BASE_BACKUP: every file arrives and matches the server manifest', async () => {
  await withReplication(async (rc) => {
    const r = await consumeBackup(rc.baseBackup({ label: 'pgkeep test', fast: true }));
    const start = r.events[0]!;
    assert.equal(start.type, 'start');
    assert.ok(start.type === 'start');
    assert.deepEqual(
      start.tablespaces.map((t) => t.oid),
      [tablespaceOid],
    );
    assert.equal(start.tablespaces[0]!.location, join(cluster.baseDir, 'ts1'));
    assert.ok((start.totalBytes ?? 0) > 0);
    const archives = r.events.filter((e) => e.type === 'archive');
    assert.deepEqual(
      archives.map((a) => a.type === 'archive' && a.name),
      [`${tablespaceOid}.tar`, 'base.tar'],
      'tablespace archive first',
    );
    assert.equal(archives[0]!.type === 'archive' && archives[0]!.tablespaceOid, tablespaceOid);
    assert.equal(r.fileOrder[r.fileOrder.length - 1]!.path, 'global/pg_control', 'pg_control last');
    assert.ok(r.events.some((e) => e.type === 'progress'));
    const end = r.events[r.events.length - 1]!;
    assert.equal(end.type, 'end');
    assert.ok(end.type === 'end' && end.stopLsn >= start.startLsn && end.timeline === start.timeline);

    assert.ok(r.manifest, 'manifest received');
    const manifest = parseBackupManifest(r.manifest!);
    assert.equal(manifest.walRanges[0]!.startLsn, start.startLsn);
    assert.equal(manifest.walRanges[0]!.endLsn, end.type === 'end' ? end.stopLsn : 0n);
    const v = verifyManifestEntries(manifest, r.files);
    assert.deepEqual(
      { missing: v.missing, extra: v.extra, size: v.sizeMismatches, sum: v.checksumMismatches, unchecked: v.notChecksummed },
      { missing: [], extra: [], size: [], sum: [], unchecked: [] },
    );
    assert.equal(v.checked, manifest.files.length);
    // the table in the tablespace is there, under pg_tblspc/<oid>/
    const [rel] = await cluster.query<{ p: string }>(`SELECT pg_relation_filepath('in_ts') AS p`, [], 'app');
    assert.ok(r.files.has(rel!.p), `${rel!.p} stored`);
    assert.ok(rel!.p.startsWith(`pg_tblspc/${tablespaceOid}/`));
    // backup_label content names our label
    assert.ok(r.files.has('backup_label'));
    // the connection is still usable after a complete backup
    assert.equal((await rc.identifySystem()).timeline, start.timeline);
  });
});

test('BASE_BACKUP with WAL: segments arrive in pg_wal/, and a damaged file is caught by the manifest check', async () => {
  await withReplication(async (rc) => {
    const r = await consumeBackup(rc.baseBackup({ label: 'with wal', fast: true, progress: false, wal: true }));
    const start = r.events.find((e) => e.type === 'start');
    const end = r.events.find((e) => e.type === 'end');
    assert.ok(start?.type === 'start' && end?.type === 'end');
    const first = walFileNameForLsn(start.timeline, start.startLsn, SEG);
    const wal = r.files.get(`pg_wal/${first}`);
    assert.equal(wal?.size, SEG, `pg_wal/${first} in the backup`);
    const manifest = parseBackupManifest(r.manifest!);
    assert.equal(verifyManifestEntries(manifest, r.files).ok, true);
    const files = new Map(r.files);
    files.set('PG_VERSION', { size: 3, sha256hex: sha256(Buffer.from('99\n')) });
    const v = verifyManifestEntries(manifest, files);
    assert.equal(v.ok, false);
    assert.deepEqual(
      v.checksumMismatches.map((m) => m.path),
      ['PG_VERSION'],
    );
  });
});

test('aborting a base backup with the signal ends the stream with INTERRUPTED', async () => {
  const rc = await ReplicationClient.connect(cluster.connectionSettings());
  try {
    const ac = new AbortController();
    let files = 0;
    await assert.rejects(
      (async () => {
        for await (const ev of rc.baseBackup({ label: 'abort test', fast: true, signal: ac.signal })) {
          if (ev.type === 'file') {
            ev.content.resume();
            if (++files === 20) ac.abort();
          }
        }
      })(),
      (e: unknown) => e instanceof PgkeepError && e.code === 'INTERRUPTED',
    );
    assert.equal(rc.isClosed, true);
  } finally {
    await rc.close();
  }
  // the server is fine afterwards
  await withReplication(async (rc2) => assert.ok((await rc2.identifySystem()).systemId));
});

test('START_REPLICATION: received WAL equals the segment on the server; flush is reported', async () => {
  await withReplication(async (rc) => {
    const slot = 'pgkeep_test_slot';
    const created = await rc.createPhysicalSlot(slot, { reserveWal: true });
    assert.equal(created.slotName, slot);
    const info = await rc.readReplicationSlot(slot);
    assert.equal(info?.slotType, 'physical');
    assert.ok(info?.restartLsn !== null && info!.restartLsn! > 0n);
    assert.equal(await rc.readReplicationSlot('no_such_slot'), null);
    await assert.rejects(rc.createPhysicalSlot(slot), (e: unknown) => e instanceof PgkeepError && e.code === 'CONFLICT');

    await cluster.exec('SELECT pg_switch_wal()');
    const id = await rc.identifySystem();
    const segStart = segmentFloor(id.xlogpos, SEG);
    const stream = await rc.startReplication({ slot, startLsn: segStart, timeline: id.timeline, statusIntervalMs: 500 });
    // generate WAL, then finish the segment
    await cluster.exec(
      `CREATE TABLE wal_gen (id int, t text); INSERT INTO wal_gen SELECT g, md5(g::text) FROM generate_series(1, 20000) g;`,
      'app',
    );
    await cluster.exec('SELECT pg_switch_wal()');

    const segment = Buffer.alloc(SEG);
    let filled = 0;
    let firstStart: bigint | undefined;
    for await (const ev of stream) {
      if (ev.type !== 'xlogdata') continue;
      firstStart ??= ev.start;
      const off = Number(ev.start - segStart);
      if (off < SEG) {
        const n = Math.min(ev.data.length, SEG - off);
        ev.data.copy(segment, off, 0, n);
        filled = Math.max(filled, off + n);
      }
      if (filled >= SEG) break;
    }
    assert.equal(firstStart, segStart);
    assert.equal(filled, SEG);
    const name = walFileNameForLsn(id.timeline, segStart, SEG);
    const onDisk = readFileSync(join(cluster.dataDir, 'pg_wal', name));
    assert.equal(onDisk.length, SEG);
    assert.ok(segment.equals(onDisk), `segment ${name} differs from the server's file`);
    // breaking out of the loop ended the COPY politely: the connection is usable again
    assert.equal((await rc.identifySystem()).systemId, id.systemId);

    // a second stream: report a flush position and see the server (and the slot) take it
    const flushAt = segStart + BigInt(SEG);
    const s2: WalStream = await rc.startReplication({ slot, startLsn: flushAt, timeline: id.timeline });
    s2.sendStatus({ write: flushAt, flush: flushAt, apply: 0n, replyRequested: true });
    let sawKeepalive = false;
    const it = s2[Symbol.asyncIterator]();
    for (let i = 0; i < 1000 && !sawKeepalive; i++) {
      const { value, done } = await it.next();
      if (done) break;
      if (value.type === 'keepalive') sawKeepalive = true;
    }
    assert.ok(sawKeepalive, 'the server answered replyRequested with a keepalive');
    let flushed = '';
    for (let i = 0; i < 100; i++) {
      const rows = await cluster.query<{ flush_lsn: string | null }>(
        `SELECT flush_lsn::text FROM pg_stat_replication WHERE application_name = 'pgkeep'`,
      );
      flushed = rows[0]?.flush_lsn ?? '';
      if (flushed === formatLsn(flushAt)) break;
      await sleep(50);
    }
    assert.equal(flushed, formatLsn(flushAt));
    const [slotRow] = await cluster.query<{ restart_lsn: string }>(
      `SELECT restart_lsn::text FROM pg_replication_slots WHERE slot_name = $1`,
      [slot],
    );
    assert.equal(slotRow!.restart_lsn, formatLsn(flushAt));
    await s2.endCopy();
    assert.equal((await rc.identifySystem()).systemId, id.systemId);
    await rc.dropSlot(slot);
    assert.equal(await rc.readReplicationSlot(slot), null);
  });
});

test('START_REPLICATION reports WAL the server no longer has as NOT_FOUND', async () => {
  await cluster.exec('SELECT pg_switch_wal(); CHECKPOINT;');
  await cluster.exec('SELECT pg_switch_wal(); CHECKPOINT;');
  const gone = walFileNameForLsn(1, 0x1000000n, SEG);
  const names = (await cluster.query<{ name: string }>('SELECT name FROM pg_ls_waldir()')).map((r) => r.name);
  assert.ok(!names.includes(gone), `${gone} should have been recycled`);
  await withReplication(async (rc) => {
    const id = await rc.identifySystem();
    // the server refuses either at once or right after entering CopyBoth
    await assert.rejects(
      (async () => {
        const s = await rc.startReplication({ startLsn: 0x1000000n, timeline: id.timeline });
        for await (const ev of s) void ev;
      })(),
      (e: unknown) =>
        e instanceof PgkeepError && e.code === 'NOT_FOUND' && /START_REPLICATION/.test(e.message) && /removed/.test(e.message),
    );
    // a refused command leaves the connection usable
    assert.equal((await rc.identifySystem()).systemId, id.systemId);
  });
});

test('SCRAM-SHA-256 password authentication on a replication connection', async () => {
  const settings = { connection: `host=127.0.0.1 port=${cluster.port} user=scram_user password=scram-secret dbname=postgres` };
  const rc = await ReplicationClient.connect(settings);
  try {
    assert.ok((await rc.identifySystem()).systemId);
  } finally {
    await rc.close();
  }
  const [m] = await cluster.query<{ auth_method: string }>(`SELECT auth_method FROM pg_hba_file_rules WHERE 'scram_user' = ANY(user_name)`);
  assert.equal(m!.auth_method, 'scram-sha-256');
  await assert.rejects(
    ReplicationClient.connect({ connection: `host=127.0.0.1 port=${cluster.port} user=scram_user password=wrong dbname=postgres` }),
    (e: unknown) => e instanceof PgkeepError && e.code === 'CONNECTION' && !/wrong/.test(e.message) && !/wrong/.test(e.hint ?? ''),
  );
});

test('backpressure: a slow consumer keeps memory bounded on a large table', async (t) => {
  // ~200 MB in one table (one segment file)
  await cluster.exec(
    `CREATE TABLE big (id int, t text) WITH (autovacuum_enabled = false);
    INSERT INTO big SELECT g, repeat(md5(g::text), 5) FROM generate_series(1, 1000000) g;`,
    'app',
  );
  const [size] = await cluster.query<{ s: string }>(`SELECT pg_relation_size('big')::text AS s`, [], 'app');
  assert.ok(Number(size!.s) > 150 * 1024 * 1024, `big is ${size!.s} bytes`);
  global.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  let sawPause = false;
  const rc = await ReplicationClient.connect(cluster.connectionSettings());
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    if (rc.connection.stream.isPaused()) sawPause = true;
  }, 20);
  try {
    const r = await consumeBackup(rc.baseBackup({ label: 'slow consumer', fast: true, progress: false }), {
      pauseEveryBytes: 4 * 1024 * 1024,
      ms: 40,
    });
    const v = verifyManifestEntries(parseBackupManifest(r.manifest!), r.files);
    assert.equal(v.ok, true);
  } finally {
    clearInterval(sampler);
    await rc.close();
  }
  assert.ok(sawPause, 'the socket was paused while the consumer was behind');
  const growthMiB = (peak - baseline) / 1024 / 1024;
  t.diagnostic(`RSS growth ${growthMiB.toFixed(1)} MiB for a ${(Number(size!.s) / 1048576).toFixed(0)} MiB table`);
  assert.ok(growthMiB < 100, `RSS grew by ${growthMiB.toFixed(0)} MiB during a ${(Number(size!.s) / 1048576).toFixed(0)} MiB backup`);
  await cluster.exec('DROP TABLE big', 'app');
});

test('timeline history and end of timeline after a promotion', async () => {
  // Restart the cluster as a standby of nothing, then promote it: timeline 2.
  const [before] = await cluster.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
  await cluster.stop('fast');
  writeFileSync(join(cluster.dataDir, 'standby.signal'), '');
  chownTreeToServerUser(join(cluster.dataDir, 'standby.signal'));
  await cluster.start();
  await cluster.promote();
  for (let i = 0; i < 100; i++) {
    const [r] = await cluster.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    if (!r!.r) break;
    await sleep(50);
  }
  await cluster.exec('CREATE TABLE after_promotion (id int); SELECT pg_switch_wal();');
  await withReplication(async (rc) => {
    const id = await rc.identifySystem();
    assert.equal(id.timeline, 2);
    const h = await rc.timelineHistory(2);
    assert.equal(h.filename, '00000002.history');
    const history = parseTimelineHistory(h.content);
    assert.equal(history.length, 1);
    assert.equal(history[0]!.parentTimeline, 1);
    const switchpoint = history[0]!.switchpoint;
    assert.ok(switchpoint >= parseLsn(before!.lsn));
    await assert.rejects(rc.timelineHistory(9), PgkeepError);

    // stream timeline 1 from the start of the segment holding `before`: it ends at the switchpoint
    const startLsn = segmentFloor(parseLsn(before!.lsn), SEG);
    const stream = await rc.startReplication({ startLsn, timeline: 1 });
    let last = startLsn;
    let eot: { nextTimeline: number; nextTimelineStartLsn: bigint } | undefined;
    for await (const ev of stream) {
      if (ev.type === 'xlogdata') last = ev.start + BigInt(ev.data.length);
      if (ev.type === 'end-of-timeline') eot = ev;
    }
    assert.deepEqual(eot, { type: 'end-of-timeline', nextTimeline: 2, nextTimelineStartLsn: switchpoint });
    assert.ok(last >= switchpoint, `received up to ${formatLsn(last)}, switchpoint ${formatLsn(switchpoint)}`);
    // and the connection continues on the next timeline
    const s2 = await rc.startReplication({ startLsn: switchpoint, timeline: 2 });
    const first = await s2[Symbol.asyncIterator]().next();
    assert.equal(first.done, false);
    await s2.endCopy();
  });
});

/**
 * Local backups on PostgreSQL 17 with summarize_wal: what the WAL summaries show unchanged since
 * the previous backup is not read, and the snapshot is the same as a full read of the same state.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PgkeepError } from '../errors.js';
import { faultTest } from '../test-support/faults.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { parseLsn } from '../pg/lsn.js';
import type { FileRecord, Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { restore } from '../restore/index.js';
import { backup, verifyBackup, type BackupOptions, type BackupResult } from './index.js';
import { addTablespace, tableChecksums } from './test-support.js';
import { relationForkOf } from './unchanged-files.js';
import { runCli } from '../test-support/run-cli.js';

const PG17 = resolve('node_modules/embedded-pg-17/native/bin');
const CLUSTER = 'main';
const TABLES = { app: ['keep', 'upd', 'trunc', 'vac', 'newt', 'in_ts'] };

let source: LocalCluster;
let repo: Repository;
let work: { path: string; remove(): Promise<void> };

before(async () => {
  work = await tempDir('pgkeep-wal-summaries-');
  repo = await newPosixRepo(join(work.path, 'repo'));
  source = await LocalCluster.create({
    pgBin: PG17,
    settings: { wal_level: 'replica', summarize_wal: 'on', autovacuum: 'off', fsync: false, checkpoint_timeout: '1h', max_wal_senders: 2 },
  });
  await source.start();
  await addTablespace(source, 'ts1');
  await source.exec('CREATE DATABASE app');
  await source.exec(
    `
    CREATE TABLE keep (id int PRIMARY KEY, payload text);
    INSERT INTO keep SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 8000) g;
    CREATE TABLE upd (id int PRIMARY KEY, n int, payload text) WITH (fillfactor = 90);
    INSERT INTO upd SELECT g, 0, repeat(md5(g::text), 3) FROM generate_series(1, 20000) g;
    CREATE TABLE trunc (id int, payload text);
    INSERT INTO trunc SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
    CREATE TABLE dropme (id int, payload text);
    INSERT INTO dropme SELECT g, md5(g::text) FROM generate_series(1, 5000) g;
    CREATE TABLE vac (id int, payload text);
    INSERT INTO vac SELECT g, md5(g::text) FROM generate_series(1, 10000) g;
    CREATE TABLE in_ts (id int, payload text) TABLESPACE ts1;
    INSERT INTO in_ts SELECT g, repeat('y', 200) FROM generate_series(1, 3000) g;
    CREATE UNLOGGED TABLE scratch (id int);
    INSERT INTO scratch SELECT generate_series(1, 1000);`,
    'app',
  );
  await source.exec('VACUUM (ANALYZE)', 'app');
});

after(async () => {
  await source?.destroy();
  await repo?.close();
  await work?.remove();
});

const local = (extra: Partial<BackupOptions> = {}): Promise<BackupResult> =>
  backup({
    repo,
    clusterName: CLUSTER,
    cluster: source.connectionSettings(),
    method: 'local',
    standalone: true,
    jobs: 2,
    ...extra,
  });

async function records(id: string): Promise<Map<string, FileRecord>> {
  const snap = await repo.readSnapshot(CLUSTER, id);
  const out = new Map<string, FileRecord>();
  for await (const r of snap.files()) out.set(r.path, r);
  return out;
}

const chunkHashes = (r: FileRecord | undefined) => r && { size: r.size, chunks: r.chunks.map((c) => `${c.offset}:${c.size}:${c.sha256}`) };

let first: BackupResult;
let second: BackupResult;
let full: BackupResult;

test('the first backup reads every file (no previous backup) and says why', async () => {
  const notes: string[] = [];
  first = await local({ onNote: (m) => notes.push(m) });
  assert.deepEqual(first.incrementalRead, { method: 'full-read', reason: 'no previous backup of this cluster' });
  assert.deepEqual(notes, ['full read: no previous backup of this cluster']);
  assert.ok(first.bytesRead! > 5_000_000, `bytes read: ${first.bytesRead}`);
});

test('after updates, inserts into a new table, TRUNCATE, DROP and VACUUM: unchanged files are skipped, changed ones read only where blocks changed, and the snapshot equals a full read', async () => {
  await source.exec(
    `
    UPDATE upd SET n = n + 1 WHERE id BETWEEN 9000 AND 9100;
    CREATE TABLE newt (id int, payload text);
    INSERT INTO newt SELECT g, md5(g::text) FROM generate_series(1, 2000) g;
    TRUNCATE trunc;
    INSERT INTO trunc VALUES (1, 'after truncate');
    DROP TABLE dropme;
    DELETE FROM vac WHERE id % 10 = 0;
    INSERT INTO in_ts SELECT g, 'z' FROM generate_series(3001, 3010) g;`,
    'app',
  );
  await source.exec('VACUUM vac', 'app');
  // hint bits and visibility set now, so that nothing changes between the two backups below
  await source.exec('VACUUM', 'app');
  await source.exec('CHECKPOINT');
  const [paths] = await source.query<{ upd: string; keep: string }>(
    "SELECT pg_relation_filepath('upd') AS upd, pg_relation_filepath('keep') AS keep",
    [],
    'app',
  );
  const { upd, keep } = paths!;

  const notes: string[] = [];
  second = await local({ onNote: (m) => notes.push(m) });
  const read = second.incrementalRead;
  assert.equal(read?.method, 'wal-summaries', JSON.stringify(read));
  if (read?.method !== 'wal-summaries') return;
  assert.ok(read.skippedFiles > 100, `skipped ${read.skippedFiles} of ${read.files}`);
  assert.ok(read.patchedFiles >= 1, `patched ${read.patchedFiles}`);
  assert.match(notes[0] ?? '', new RegExp(`^incremental from WAL summaries .*: ${read.skippedFiles} of ${read.files} files skipped`));

  full = await local({ checksumAll: true });
  assert.deepEqual(full.incrementalRead, { method: 'full-read', reason: '--checksum-all reads every file' });
  assert.ok(second.bytesRead! < full.bytesRead! / 2, `read ${second.bytesRead} with summaries, ${full.bytesRead} without`);

  // every relation file stored from the summaries holds what a full read of the same state stores
  const withSummaries = await records(second.snapshotId);
  const fullRead = await records(full.snapshotId);
  let compared = 0;
  for (const [path, r] of withSummaries) {
    if (r.type !== 'file' || !relationForkOf(path)) continue;
    assert.deepEqual(chunkHashes(r), chunkHashes(fullRead.get(path)), path);
    compared++;
  }
  for (const path of fullRead.keys()) {
    if (relationForkOf(path)) assert.ok(withSummaries.has(path), `${path} is in both snapshots`);
  }
  assert.ok(compared > 200, `compared ${compared} relation files`);
  // the unchanged table was taken over whole (its chunks are the first snapshot's), the updated one
  // read in part; a local backup records no whole-file hash (each chunk's SHA-256 covers every byte)
  const firstRecords = await records(first.snapshotId);
  assert.deepEqual(withSummaries.get(keep)?.chunks, firstRecords.get(keep)?.chunks);
  assert.equal(withSummaries.get(upd)?.sha256, undefined);
  assert.ok(withSummaries.get(upd)!.chunks.length > 10);
});

test('the backup taken from the summaries verifies, restores and starts with the data the source holds', async () => {
  const v = await verifyBackup(repo, CLUSTER, second.snapshotId);
  assert.deepEqual(v.problems, []);
  assert.ok(v.ok);
  const expected = await tableChecksums(source, TABLES);
  const dir = join(work.path, 'restored');
  await restore({
    repo,
    cluster: CLUSTER,
    id: second.snapshotId,
    to: dir,
    sync: false,
    tablespaceMap: [{ from: join(source.baseDir, 'ts1'), to: join(work.path, 'restored-ts') }],
    access: { repo: join(work.path, 'repo'), cluster: CLUSTER },
  });
  const copy = await LocalCluster.attach(dir, { pgBin: PG17 });
  try {
    await copy.start();
    assert.deepEqual(await tableChecksums(copy, TABLES), expected);
    assert.deepEqual(await copy.query("SELECT to_regclass('dropme') AS t", [], 'app'), [{ t: null }]);
    assert.deepEqual(await copy.query('SELECT payload FROM trunc', [], 'app'), [{ payload: 'after truncate' }]);
  } finally {
    await copy.destroy();
  }
});

test('the CLI says which way it read: --no-wal-summaries, then from the summaries', async () => {
  const cli = (...args: string[]) =>
    runCli(
      [
        '--repo',
        join(work.path, 'repo'),
        '--cluster',
        CLUSTER,
        '--pgdata',
        source.dataDir,
        '-d',
        source.connectionString(),
        'backup',
        '--method',
        'local',
        '--standalone',
        ...args,
      ],
      { env: { ...process.env, HOME: work.path } },
    );
  const off = await cli('--no-wal-summaries');
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /^pgkeep: full read: WAL summaries disabled \(--no-wal-summaries\)$/m);
  assert.match(off.stdout, /^ {2}read: {6}.* read; every file \(WAL summaries disabled/m);
  await source.exec('UPDATE upd SET n = n + 1 WHERE id = 7', 'app');
  const on = await cli();
  assert.equal(on.code, 0, on.stderr);
  assert.match(
    on.stderr,
    /^pgkeep: incremental from WAL summaries \S+\.\.\S+: \d+ of \d+ files skipped, \d+ read only where blocks changed$/m,
  );
  assert.match(on.stdout, /^ {2}read: {6}.* read; WAL summaries /m);
});

faultTest('WAL summaries missing for part of the range: the backup reads every file and says why', async () => {
  await source.exec('UPDATE upd SET n = n + 1 WHERE id < 50', 'app');
  await source.exec('CHECKPOINT');
  await source.exec('UPDATE upd SET n = n + 1 WHERE id > 19950', 'app');
  // a summary ends at each checkpoint's redo point: wait until one covers both updates (bounded)
  const lsn = (await source.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn'))[0]!.lsn;
  await source.exec('CHECKPOINT');
  let summarized = false;
  for (let i = 0; i < 100 && !summarized; i++) {
    const [s] = await source.query<{ ok: boolean }>(`SELECT summarized_lsn >= '${lsn}'::pg_lsn AS ok FROM pg_get_wal_summarizer_state()`);
    summarized = s!.ok;
    if (!summarized) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(summarized, `the WAL summarizer reached ${lsn} within 10 s`);
  // then remove the first summary after the last backup's start
  const dir = join(source.dataDir, 'pg_wal', 'summaries');
  // summary files are named TLI, start LSN, end LSN (8 hex digits for each half)
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.summary'))
    .sort();
  const { manifests } = await repo.readSnapshots(CLUSTER);
  const lastStart = (manifests.at(-1)!.meta as { startLsn: string }).startLsn;
  const later = names.filter((n) => BigInt(`0x${n.slice(8, 24)}`) >= parseLsn(lastStart));
  assert.ok(later.length >= 1, `summaries after ${lastStart}: ${names.join(', ')}`);
  rmSync(join(dir, later[0]!));

  const b = await local();
  assert.equal(b.incrementalRead?.method, 'full-read');
  if (b.incrementalRead?.method === 'full-read') assert.match(b.incrementalRead.reason, /the WAL summaries do not cover .* on timeline 1/);
  // the updated table was read whole, not where blocks changed (a few pages at each end)
  const [upd] = await source.query<{ p: string }>("SELECT pg_relation_filepath('upd') AS p", [], 'app');
  const size = (await records(b.snapshotId)).get(upd!.p)!.size;
  assert.ok(size > 100 * 8192 && b.bytesRead! >= size, `read ${b.bytesRead} bytes; upd is ${size} bytes`);
});

test('summarize_wal off: full read, and why', async () => {
  await source.exec('ALTER SYSTEM SET summarize_wal = off');
  await source.exec('SELECT pg_reload_conf()');
  await new Promise((r) => setTimeout(r, 300));
  const b = await local();
  assert.deepEqual(b.incrementalRead, { method: 'full-read', reason: 'summarize_wal is off on the server' });
});

faultTest("the backup's session terminated before the WAL summaries are read: CONNECTION at once, not a full read first", async () => {
  const psql = '/usr/lib/postgresql/15/bin/psql'; // the embedded 17 has no client tools; 15's psql talks to 17
  const before = (await repo.readSnapshots(CLUSTER)).manifests.length;
  let killed = false;
  await assert.rejects(
    local({
      onProgress: (p) => {
        if (p.phase !== 'copying' || killed) return;
        killed = true;
        // synchronously, so the session is gone before the copy step asks for the summaries
        const r = spawnSync(
          psql,
          [
            '-h',
            source.socketDir,
            '-p',
            String(source.port),
            '-U',
            source.superuser,
            '-X',
            '-At',
            '-c',
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'pgkeep backup'",
            'postgres',
          ],
          { encoding: 'utf8' },
        );
        assert.equal(r.stdout.trim(), '1', r.stderr);
      },
    }),
    (e: unknown) => {
      assert.ok(e instanceof PgkeepError, String(e));
      assert.equal(e.code, 'CONNECTION', e.message);
      assert.match(e.message, /reading the WAL summaries/);
      return true;
    },
  );
  assert.ok(killed);
  assert.equal((await repo.readSnapshots(CLUSTER)).manifests.length, before, 'nothing published');
});

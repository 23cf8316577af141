/**
 * Incremental forever with delta chunks (repository format 2) on a real cluster: scattered page
 * updates are stored as their pages, the incremental restores byte for byte (fresh and --delta),
 * and expiring the snapshot that holds the base chunks (then gc) keeps what the delta needs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../pg/local-cluster.js';
import { garbageCollect, type FileRecord, type Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { restore } from '../restore/index.js';
import { compareWithRecords } from '../restore/test-compare.js';
import { resolveSnapshot } from '../holdings/index.js';
import { backup, verifyBackup } from './index.js';
import { REPLICATION_SOURCE } from './test-support.js';

const CLUSTER = 'main';
const PAGE = 8192;
let source: LocalCluster;
let repo: Repository;
let work: { path: string; remove(): Promise<void> };

before(async () => {
  work = await tempDir('pgkeep-incr-delta-');
  source = await LocalCluster.create({ dataChecksums: true, ...REPLICATION_SOURCE });
  await source.start();
  // about 6 MB in pages of ~60 rows, with room for HOT updates in place
  await source.exec(`CREATE TABLE t (id int PRIMARY KEY, n int, pad text) WITH (fillfactor = 80);
    INSERT INTO t SELECT g, 0, md5(g::text) || repeat('p', 60) FROM generate_series(1, 50000) g;
`);
  await source.exec('VACUUM (FREEZE) t');
  await source.exec('CHECKPOINT');
  repo = await newPosixRepo(join(work.path, 'repo'));
});

after(async () => {
  await source?.destroy();
  await repo?.close();
  await work?.remove();
});

async function takeBackup() {
  return backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method: 'local', jobs: 2, standalone: true });
}

async function one<T>(rows: Promise<T[]>): Promise<T> {
  const [r] = await rows;
  assert.ok(r, 'the query returned a row');
  return r;
}

async function records(id: string): Promise<FileRecord[]> {
  const { snapshot } = await resolveSnapshot(repo, CLUSTER, id);
  const out: FileRecord[] = [];
  for await (const r of snapshot.files()) out.push(r);
  return out;
}

test('scattered page updates: stored as their pages, restored byte for byte, and still after the base snapshot is expired and gc ran', async () => {
  const first = await takeBackup();
  const { path } = await one(source.query<{ path: string }>(`SELECT pg_relation_filepath('t') AS path`));
  // one row in page 5 of every 16-page (128 KiB) chunk of the table: one changed page per chunk
  const { pages } = await one(
    source.query<{ pages: number }>(
      `WITH u AS (UPDATE t SET n = n + 1 WHERE ctid = ANY (ARRAY(
       SELECT format('(%s,1)', b)::tid FROM generate_series(5, pg_relation_size('t') / ${PAGE} - 1, 16) b)) RETURNING ctid)
     SELECT count(DISTINCT (ctid::text::point)[0])::int AS pages FROM u`,
    ),
  );
  assert.ok(pages >= 40, `${pages} pages changed`);
  await source.exec('CHECKPOINT');
  await sleep(2100); // files changed within 2 s of a backup's start are read anyway; be clear of it
  const second = await takeBackup();
  assert.equal(second.incrementalFrom, first.snapshotId);

  const table = (await records(second.snapshotId)).find((r) => r.path === path)!;
  const before = (await records(first.snapshotId)).find((r) => r.path === path)!;
  const changed = table.chunks.filter((c, i) => c.sha256 !== before.chunks[i]?.sha256);
  assert.equal(changed.length, pages, 'one changed chunk per changed page');
  assert.ok(
    changed.every((c) => c.base !== undefined),
    'every changed chunk of the table is a delta',
  );
  const tableStored = changed.reduce((n, c) => n + c.length, 0);
  assert.ok(tableStored <= pages * (PAGE + 256), `the table's changes took ${tableStored} bytes for ${pages} changed pages`);
  assert.ok(second.storedBytes < first.storedBytes / 4, `incremental ${second.storedBytes} bytes, full ${first.storedBytes}`);
  const { snapshot } = await resolveSnapshot(repo, CLUSTER, second.snapshotId);
  assert.ok((snapshot.stats.deltaChunks ?? 0) >= pages);
  const verified = await verifyBackup(repo, CLUSTER, second.snapshotId);
  assert.deepEqual(verified.problems, [], 'pgkeep verify rebuilds and checks every delta chunk');

  const { sum } = await one(source.query<{ sum: string }>(`SELECT sum(n)::text AS sum FROM t`));
  const to = join(work.path, 'restored');
  // the restore writes its recovery settings into postgresql.auto.conf: every other file is compared
  const recs = (await records(second.snapshotId)).filter((r) => r.path !== 'postgresql.auto.conf');
  const access = { repo: join(work.path, 'repo'), cluster: CLUSTER };
  await restore({ repo, cluster: CLUSTER, id: second.snapshotId, to, sync: false, access });
  assert.deepEqual(compareWithRecords(to, recs, new Map()), [], 'fresh restore is byte for byte the snapshot');

  // expire the full backup that stored the base chunks; gc (repacking everything it can)
  await repo.deleteSnapshot(CLUSTER, first.snapshotId);
  const gc = await garbageCollect(repo, { repackBelow: 0.99 });
  assert.ok(gc.deleted.length + gc.repacked.length > 0, 'gc freed what the full backup alone used');

  // damage the restored table file in two chunks (both deltas): --delta brings them back
  const fh = await open(join(to, path), 'r+');
  await fh.write(Buffer.alloc(PAGE, 7), 0, PAGE, 5 * PAGE);
  await fh.write(Buffer.alloc(PAGE, 7), 0, PAGE, 18 * PAGE);
  await fh.close();
  let started: LocalCluster | undefined;
  const outcome = await restore({
    repo,
    cluster: CLUSTER,
    id: second.snapshotId,
    to,
    delta: true,
    sync: false,
    access,
    start: true,
    onStarted: (c) => (started = c),
  });
  try {
    assert.ok(outcome.stats.chunksWritten >= 2, 'the damaged chunks were rewritten from their deltas and bases');
    assert.ok(started);
    const { sum: got } = await one(started.query<{ sum: string }>(`SELECT sum(n)::text AS sum FROM t`));
    assert.equal(got, sum, 'the restored copy has the updates');
    const { c } = await one(started.query<{ c: number }>(`SELECT count(*)::int AS c FROM t`));
    assert.equal(c, 50000);
  } finally {
    await started?.destroy();
  }
});

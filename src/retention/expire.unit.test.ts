/** Retention on a real (posix) repository: backups built with the repository API, WAL objects by name. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tempDir, newPosixRepo } from '../repo/test-utils.js';
import type { Repository } from '../repo/index.js';
import { checkClusterIdentity } from '../holdings/cluster-identity.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { walFileName } from '../pg/wal-name.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { listArchive } from '../holdings/wal-listing.js';
import { expire } from './expire.js';
import { listPins, pinSnapshot, unpinSnapshot } from './pins.js';

const SYS = '7300000000000000001';
const SEG = 16 * 1024 * 1024;
const now = new Date();
let dir: Awaited<ReturnType<typeof tempDir>>;
let repo: Repository;
/** Backup id by its first segment number. */
const ids = new Map<number, string>();

function lsn(seg: number, off: number): string {
  const v = BigInt(seg) * BigInt(SEG) + BigInt(off);
  return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;
}

async function backup(seg: number, daysAgo: number): Promise<string> {
  const t = new Date(now.getTime() - daysAgo * 86_400_000).toISOString();
  const meta: PhysicalBackupMeta = {
    method: 'stream',
    label: `b${seg}`,
    standalone: false,
    systemIdentifier: SYS,
    serverVersion: '15.0',
    serverVersionNum: 150000,
    timeline: 1,
    startLsn: lsn(seg, 40),
    stopLsn: lsn(seg, 9000),
    startTime: t,
    stopTime: t,
    walSegmentSize: SEG,
    walStart: walFileName(1, BigInt(seg)),
    walEnd: walFileName(1, BigInt(seg)),
    tablespaces: [],
    dataChecksums: true,
    serverManifest: false,
  };
  const w = await repo.startSnapshot({ cluster: 'c', kind: 'physical' });
  await w.addFile({ path: 'base/1/1', type: 'file', mode: 0o600, mtimeMs: Date.now() }, randomBytes(300_000));
  const m = await w.commit(meta);
  ids.set(seg, m.id);
  return m.id;
}

async function walNames(): Promise<string[]> {
  return (await listArchive(repo, 'c')).get(SYS)!.files.map((f) => f.file.name);
}

before(async () => {
  dir = await tempDir('pgkeep-expire-');
  repo = await newPosixRepo(dir.path);
  await checkClusterIdentity(repo, 'c', SYS);
  for (let s = 1; s <= 13; s++) await repo.putObject(walObjectName('c', SYS, walFileName(1, BigInt(s))), Buffer.from(`segment ${s}`));
  await repo.putObject(walObjectName('c', SYS, `${walFileName(1, 2n)}.00000028.backup`), Buffer.from('backup 2'));
  await repo.putObject(walObjectName('c', SYS, '00000002.history'), Buffer.from('1\t0/1000000\tx\n'));
  await backup(2, 10);
  await backup(5, 8);
  await backup(8, 6);
  await backup(11, 4);
  const w = await repo.startSnapshot({ cluster: 'c', kind: 'logical' });
  await w.addFile({ path: 'dump', type: 'file', mode: 0o600, mtimeMs: Date.now() }, Buffer.from('old dump'));
  await w.commit({ stopTime: new Date(now.getTime() - 30 * 86_400_000).toISOString() });
});

after(async () => {
  await repo?.close();
  await dir?.remove();
});

test('a dry run says what would go and changes nothing', async () => {
  const before = await walNames();
  const r = await expire(repo, { cluster: 'c', policy: { keepLast: 2 }, dryRun: true, now });
  assert.deepEqual(r.expired.sort(), [ids.get(2), ids.get(5)].sort());
  assert.equal(r.wal[0]!.keepFrom, walFileName(1, 8n));
  assert.equal(r.walFiles, 8, 'segments 1..7 and the .backup file of segment 2');
  assert.ok(r.gc.bytes >= 2 * 300_000, `gc estimate ${r.gc.bytes}`);
  assert.equal(r.logicalDumps, 1);
  assert.deepEqual(await walNames(), before);
  assert.equal((await repo.listSnapshotIds('c')).length, 5);
});

test('a pinned backup (--keep) survives and keeps its WAL; the rest of the policy applies', async () => {
  const r = await expire(repo, { cluster: 'c', policy: { keepLast: 2 }, keep: [ids.get(5)!], now });
  assert.deepEqual(r.expired, [ids.get(2)]);
  assert.deepEqual(
    (await listPins(repo, 'c')).map((p) => p.id),
    [ids.get(5)],
  );
  const names = await walNames();
  assert.equal(names[0], walFileName(1, 5n), 'WAL from the pinned backup on is kept');
  assert.ok(!names.some((n) => n.endsWith('.backup')));
  assert.ok(r.gc.exact && r.gc.bytes > 0, `gc ${JSON.stringify(r.gc)}`);
  // History files always stay.
  assert.ok((await listArchive(repo, 'c')).get(SYS)!.histories.has(2));
});

test('never removes the newest backup or what a kept backup needs; logical dumps are left alone', async () => {
  await unpinSnapshot(repo, 'c', ids.get(5)!);
  const r = await expire(repo, { cluster: 'c', policy: { keepDays: 1 }, now });
  // Window of 1 day: nothing inside; the newest (11) is kept, and as the newest before the window too.
  assert.deepEqual(r.expired.sort(), [ids.get(5), ids.get(8)].sort());
  const left = await repo.listSnapshots('c');
  assert.deepEqual(
    left.filter((m) => m.kind === 'physical').map((m) => m.id),
    [ids.get(11)],
  );
  assert.equal(left.filter((m) => m.kind === 'logical').length, 1);
  const names = await walNames();
  assert.deepEqual(
    names,
    [11, 12, 13].map((s) => walFileName(1, BigInt(s))),
  );
  // Again: nothing more to do.
  const again = await expire(repo, { cluster: 'c', policy: { keepLast: 1 }, now });
  assert.deepEqual(again.expired, []);
  assert.equal(again.walFiles, 0);
});

test('pin refuses an unknown id; --keep of an unknown id fails before anything is removed', async () => {
  await assert.rejects(pinSnapshot(repo, 'c', '20000101T000000Z-0000'), /snapshot 20000101T000000Z-0000: cluster "c" has no such backup/);
  await assert.rejects(expire(repo, { cluster: 'c', policy: { keepLast: 1 }, keep: ['20000101T000000Z-0000'], now }), /no such backup/);
});

test('pin, unpin and expire --keep take the start of an id, as every command does; an ambiguous start is refused with the candidates', async () => {
  const id = ids.get(11)!;
  const start = id.slice(0, -1);
  assert.equal((await pinSnapshot(repo, 'c', start, 'by its start')).id, id);
  assert.deepEqual(
    (await listPins(repo, 'c')).map((p) => p.id),
    [id],
    'the pin names the whole id',
  );
  assert.equal(await unpinSnapshot(repo, 'c', start), id);
  assert.deepEqual(await listPins(repo, 'c'), []);
  const all = await repo.listSnapshotIds('c');
  assert.equal(all.length, 2, 'backup 11 and the dump');
  const ambiguous = (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'USAGE');
    for (const each of all) assert.match((e as Error).message, new RegExp(each));
    return true;
  };
  await assert.rejects(pinSnapshot(repo, 'c', id.slice(0, 4)), ambiguous, 'pin');
  await assert.rejects(expire(repo, { cluster: 'c', policy: { keepLast: 1 }, keep: [id.slice(0, 4)], now }), ambiguous, 'expire --keep');
  assert.deepEqual(await listPins(repo, 'c'), [], 'nothing pinned by a refused --keep');
  await expire(repo, { cluster: 'c', policy: { keepLast: 1 }, keep: [start], dryRun: true, now });
  const r = await expire(repo, { cluster: 'c', policy: { keepLast: 1 }, keep: [start], now });
  assert.deepEqual(r.expired, []);
  assert.deepEqual(
    (await listPins(repo, 'c')).map((p) => p.id),
    [id],
    '--keep pins the whole id',
  );
  await pinSnapshot(repo, 'c', all.find((x) => x !== id)!);
  await assert.rejects(unpinSnapshot(repo, 'c', id.slice(0, 4)), ambiguous, 'unpin among two pins');
  assert.equal(await unpinSnapshot(repo, 'c', 'latest'), all[all.length - 1]);
});

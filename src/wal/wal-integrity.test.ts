/**
 * Archived WAL is read back by every check that claims to read data: a byte flipped in a segment
 * a backup needs is found by `repo check --read-data`, `wal check --read-data`, `verify`, and
 * stops `restore` before it writes — in a zstd repository and in an uncompressed one. And
 * `wal push` refuses .history/.backup files PostgreSQL would not have written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { resolveSnapshot } from '../holdings/index.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { faultTest } from '../test-support/faults.js';
import { PGKEEP_BIN as CLI, runPgkeep, type CliRun } from '../test-support/cli.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { WalRecordScanner } from '../pg/wal/records.js';

const KDF = { N: 1024, r: 8, p: 1 };
let cluster: LocalCluster;
let work: string;
let sysid: string;
const repos: { name: string; dir: string; repo: Repository; meta?: PhysicalBackupMeta; id?: string }[] = [];

function cli(dir: string, args: string[], cwd?: string): Promise<CliRun> {
  return runPgkeep(['--repo', dir, '--cluster', 'test', ...args], { cwd });
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-wal-integrity-'));
  for (const name of ['zstd', 'none']) mkdirSync(join(work, `repo-${name}`));
  // The server's archive_command (postgres) and this test (root) both write: the driver gives
  // root's new files to the repository directory's owner.
  chownTreeToServerUser(work);
  for (const [name, compression] of [
    ['zstd', 'zstd:3'],
    ['none', 'none'],
  ] as const) {
    const dir = join(work, `repo-${name}`);
    repos.push({ name, dir, repo: await Repository.init(new PosixDriver(dir), { kdfCost: KDF, jobs: 1, compression }) });
  }
  const push = (dir: string) => `env -u PGKEEP_CONFIG ${process.execPath} ${CLI} --repo ${dir} --cluster test wal push %p`;
  cluster = await LocalCluster.create({
    settings: { wal_level: 'replica', archive_mode: 'on', archive_command: repos.map((r) => push(r.dir)).join(' && '), fsync: false },
  });
  await cluster.start();
  await cluster.exec('create table t (id int, v text); insert into t select g, md5(g::text) from generate_series(1, 5000) g');
  sysid = (await cluster.controlData())['Database system identifier']!;
  for (const r of repos) {
    // BASE_BACKUP waits until the server has archived the backup's last segment.
    const b = await backup({ repo: r.repo, clusterName: 'test', cluster: cluster.connectionSettings(), method: 'stream', jobs: 1 });
    const { meta } = await resolveSnapshot(r.repo, 'test', b.snapshotId);
    Object.assign(r, { meta, id: b.snapshotId });
  }
});

after(async () => {
  await cluster?.destroy();
  for (const r of repos) await r.repo.close();
  if (work) await rm(work, { recursive: true, force: true });
});

for (const index of [0, 1]) {
  faultTest(`a byte flipped in an archived segment a backup needs (${index ? 'uncompressed' : 'zstd'} repository)`, async () => {
    const r = repos[index]!;
    const seg = r.meta!.walStart;
    const before = await Promise.all([
      cli(r.dir, ['repo', 'check', '--read-data']),
      cli(r.dir, ['verify', 'latest']),
      cli(r.dir, ['wal', 'check', '--read-data']),
    ]);
    for (const b of before) assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.match(before[1]!.stdout, new RegExp(`archived WAL ${seg}.*: (\\d+) of \\1 segment\\(s\\) read and checked`));

    const info = (await r.repo.statObject(walObjectName('test', sysid, seg)))!;
    const file = join(r.dir, ...info.key.split('/'));
    const bytes = readFileSync(file);
    const at = Math.floor(bytes.length / 2) + 7;
    bytes[at] = bytes[at]! ^ 0x04;
    writeFileSync(file, bytes);

    const check = await cli(r.dir, ['repo', 'check', '--read-data']);
    assert.equal(check.code, 7, check.stdout + check.stderr);
    assert.ok(check.stdout.includes(info.key), `repo check names ${info.key}:\n${check.stdout}`);
    const json = JSON.parse((await cli(r.dir, ['--json', 'repo', 'check', '--read-data'])).stdout);
    assert.deepEqual(
      json.damaged.map((d: { object: string }) => d.object),
      [info.key],
    );

    const verify = await cli(r.dir, ['verify', 'latest']);
    assert.equal(verify.code, 7, verify.stdout + verify.stderr);
    assert.match(
      verify.stdout,
      new RegExp(`WAL archive ${seg}: archived copy .* is damaged: (SHA-256 mismatch|zstd decompression failed)`),
    );

    const walCheck = await cli(r.dir, ['wal', 'check', '--read-data']);
    assert.equal(walCheck.code, 7, walCheck.stdout + walCheck.stderr);
    assert.match(walCheck.stdout, new RegExp(`damaged: ${seg} `));
    assert.match(walCheck.stdout, /unrecoverable/, 'the backup cannot become consistent without it');
    const listingOnly = await cli(r.dir, ['wal', 'check']);
    assert.equal(listingOnly.code, 0, 'without --read-data segments are not read (as its --help says)');

    const target = join(work, `restore-${r.name}`);
    const restored = await cli(r.dir, ['restore', 'latest', '--to', target, '--no-sync']);
    assert.equal(restored.code, 7, restored.stdout + restored.stderr);
    // Named by the check of the WAL the backup needs, or earlier by the recovery planner reading it.
    assert.match(restored.stderr, new RegExp(`(archived WAL it needs is damaged: ${seg}|damaged repository object wal/\\S+/${seg}\\.)`));
    assert.deepEqual(existsSync(target) ? readdirSync(target) : [], [], 'nothing written');
    bytes[at] = bytes[at]! ^ 0x04; // put it back for the other tests
    writeFileSync(file, bytes);
  });
}

faultTest('a segment whose content was damaged before it was pushed: the envelope is fine, the pages or a record are not', async () => {
  const r = repos[0]!;
  const seg = r.meta!.walStart;
  const good = await r.repo.getObject(walObjectName('test', sysid, seg));
  const bad = Buffer.from(good);
  // The segment ends in zero pages (the server zeroes what follows an xlog switch): garbage there.
  bad[bad.length - 100] = 0x42;
  await r.repo.putObject(walObjectName('test', sysid, seg), bad);
  try {
    const walCheck = await cli(r.dir, ['wal', 'check', '--read-data']);
    assert.equal(walCheck.code, 7, walCheck.stdout + walCheck.stderr);
    assert.match(
      walCheck.stdout,
      new RegExp(`damaged: ${seg} .*content is not valid: page at offset ${16 * 1024 * 1024 - 8192} holds data after zero pages`),
    );
    // wal push refuses such a file from pg_wal.
    const dir = join(work, 'copies', 'pg_wal');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, seg), bad);
    const push = await cli(repos[1]!.dir, ['wal', 'push', join(dir, seg)]);
    assert.equal(push.code, 7, push.stderr);
    assert.match(push.stderr, /is not archived: its content is not valid: page at offset \d+ holds data after zero pages/);
    // A byte changed inside a record: the page headers are fine, the record's CRC-32C is not.
    let first: { at: number; length: number } | undefined;
    const start = BigInt(`0x${seg.slice(8, 16)}`) * 0x1_0000_0000n + BigInt(`0x${seg.slice(16)}`) * 16n * 1024n * 1024n;
    new WalRecordScanner(
      () => undefined,
      (rec, lsn) => {
        first ??= { at: Number(lsn - start), length: rec.length };
      },
    ).segment(good, start);
    assert.ok(first && first.length > 30, 'the segment has a record');
    const inRecord = Buffer.from(good);
    inRecord[first.at + 26] = inRecord[first.at + 26]! ^ 0x20;
    await r.repo.putObject(walObjectName('test', sysid, seg), inRecord);
    const crc = await cli(r.dir, ['wal', 'check', '--read-data']);
    assert.equal(crc.code, 7, crc.stdout + crc.stderr);
    assert.match(crc.stdout, new RegExp(`damaged: ${seg} .*content is not valid: record 1 at .* fails its CRC-32C`));
  } finally {
    await r.repo.putObject(walObjectName('test', sysid, seg), good);
  }
});

test('wal push refuses a malformed .history or .backup file (the archiver retries); wal check names one already archived', async () => {
  const r = repos[0]!;
  const fake = join(work, 'fake-pgdata');
  mkdirSync(join(fake, 'pg_wal'), { recursive: true });
  mkdirSync(join(fake, 'global'), { recursive: true });
  copyFileSync(join(cluster.dataDir, 'global', 'pg_control'), join(fake, 'global', 'pg_control'));
  const push = async (name: string, content: string) => {
    writeFileSync(join(fake, 'pg_wal', name), content);
    return cli(r.dir, ['wal', 'push', `pg_wal/${name}`], fake);
  };
  for (const [content, why] of [
    ['1\t0/3000000\tno recovery target specified\n2\t0/2000000\tbackwards\n', /switchpoint goes backwards/],
    ['3\t0/3000000\ttoo high\n', /timeline 3, which is not below the file's timeline 3/],
    ['this is not a history file\n', /invalid timeline history, line 1/],
  ] as const) {
    const bad = await push('00000003.history', content);
    assert.equal(bad.code, 7, bad.stderr);
    assert.match(bad.stderr, /00000003\.history .* is not archived: its content is not valid/);
    assert.match(bad.stderr, why);
    assert.equal(await r.repo.statObject(walObjectName('test', sysid, '00000003.history')), undefined, 'nothing stored');
  }
  const backupName = '000000010000000000000009.00000028.backup';
  const badBackup = await push(backupName, 'START WAL LOCATION: 0/A000028 (file 00000001000000000000000A)\n');
  assert.equal(badBackup.code, 7, badBackup.stderr);
  assert.match(badBackup.stderr, /starts in 00000001000000000000000A, but its name says 000000010000000000000009/);
  const good = await push('00000003.history', '1\t0/3000000\tno recovery target specified\n2\t0/5000000\tbefore 2000-01-01\n');
  assert.equal(good.code, 0, good.stderr);

  // One already in the archive (pushed by an older pgkeep): wal check reports it by name and why.
  await r.repo.putObject(walObjectName('test', sysid, '00000004.history'), Buffer.from('1\t0/3000000\tx\n1\t0/4000000\ty\n'));
  const check = await cli(r.dir, ['wal', 'check']);
  assert.equal(check.code, 7, check.stdout + check.stderr);
  assert.match(check.stdout, /damaged: 00000004\.history .*not a valid timeline history: .*increasing order/);
  await r.repo.deleteObject(walObjectName('test', sysid, '00000004.history'));
  await r.repo.deleteObject(walObjectName('test', sysid, '00000003.history'));
});

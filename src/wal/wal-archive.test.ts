/**
 * WAL archiving end to end: a real server whose archive_command is `pgkeep wal push %p`, then
 * `wal push` / `wal get` / `wal check` run as the CLI, against a posix repository.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { Repository } from '../repo/index.js';
import { walFileName, nextWalFileName } from '../pg/wal-name.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { readSegmentHeader } from '../pg/wal/identify.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { PGKEEP_BIN, runPgkeep, type CliRun } from '../test-support/cli.js';
import { OBJECT_HEADER_BYTES } from '../repo/blob.js';
import { compressSync, parseCodec } from '../repo/codec.js';

const CLI = PGKEEP_BIN;
const KDF = { N: 1024, r: 8, p: 1 };
let cluster: LocalCluster;
let work: string;
let repoDir: string;
let repo: Repository;
let sysid: string;
/** Segments archived by the server, in order. */
const archived: string[] = [];

function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliRun> {
  return runPgkeep(args, { env, cwd });
}

async function switchAndWait(): Promise<string> {
  await cluster.exec('insert into t select g, md5(g::text) from generate_series(1, 2000) g');
  const [row] = await cluster.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f');
  const seg = row!.f;
  for (let i = 0; i < 300; i++) {
    const [a] = await cluster.query<{ w: string | null; f: string | null }>(
      'select last_archived_wal as w, last_failed_wal as f from pg_stat_archiver',
    );
    if (a!.w !== null && a!.w >= seg) {
      archived.push(seg);
      return seg;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`segment ${seg} was not archived; server log:\n${cluster.logTail(20)}`);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-wal-test-'));
  repoDir = join(work, 'repo');
  mkdirSync(repoDir);
  repo = await Repository.init(new PosixDriver(repoDir), { kdfCost: KDF, jobs: 1 });
  chownTreeToServerUser(work);
  // Clear PGKEEP_* so the CLI the server runs sees only its flags.
  const archiveCommand = `env -u PGKEEP_CONFIG ${process.execPath} ${CLI} --repo ${repoDir} --cluster test wal push %p`;
  cluster = await LocalCluster.create({
    settings: { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand, fsync: false, archive_timeout: 0 },
  });
  await cluster.start();
  await cluster.exec('create table t (id int, v text)');
  sysid = (await cluster.controlData())['Database system identifier']!;
});

after(async () => {
  await cluster?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

test('archive_command = wal push: switched segments arrive under the system identifier, byte for byte', async () => {
  const seg = await switchAndWait();
  await switchAndWait();
  const data = await repo.getObject(walObjectName('test', sysid, seg));
  assert.equal(data.length, 16 * 1024 * 1024);
  const h = readSegmentHeader(data);
  assert.equal(h.systemIdentifier, sysid, 'the long page header carries the system identifier');
  // The identity the first push recorded.
  const identity = JSON.parse((await repo.getObject('clusters/test/identity.json')).toString());
  assert.equal(identity.systemIdentifier, sysid);
  const stored = readdirSync(join(repoDir, 'wal', 'test', sysid, seg.slice(0, 16)));
  assert.ok(stored.includes(`${seg}.zst`), `stored keys: ${stored.join(', ')}`);
});

test('pushing the same segment twice succeeds; different content is refused and the first copy kept', async () => {
  const seg = archived[0]!;
  const original = await repo.getObject(walObjectName('test', sysid, seg));
  const dir = join(work, 'copies', 'pg_wal');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, seg);
  writeFileSync(file, original);
  const again = await cli(['--repo', repoDir, '--cluster', 'test', 'wal', 'push', file]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already archived/);

  const changed = Buffer.from(original);
  changed[8192 + 100] = changed[8192 + 100]! ^ 0xff;
  writeFileSync(file, changed);
  const bad = await cli(['--repo', repoDir, '--cluster', 'test', 'wal', 'push', file]);
  assert.equal(bad.code, 7, bad.stderr);
  assert.match(bad.stderr, new RegExp(`${seg} is already archived .* with different content`));
  assert.ok((await repo.getObject(walObjectName('test', sysid, seg))).equals(original), 'first copy untouched');
});

test('WAL of another system is refused, naming both system identifiers', async () => {
  const seg = archived[0]!;
  const other = Buffer.from(await repo.getObject(walObjectName('test', sysid, seg)));
  other.writeBigUInt64LE(BigInt(sysid) + 1n, 24);
  // A segment far away from the archived ones, its header saying so, from another system.
  const name = walFileName(1, 0x5000n);
  other.writeBigUInt64LE(0x5000n * 16n * 1024n * 1024n, 8);
  const file = join(work, 'copies', 'pg_wal', name);
  writeFileSync(file, other);
  const r = await cli(['--repo', repoDir, '--cluster', 'test', 'wal', 'push', file]);
  assert.equal(r.code, 11, r.stderr);
  assert.match(r.stderr, new RegExp(`system ${BigInt(sysid) + 1n}.*system ${sysid}`));
  assert.equal(existsSync(join(repoDir, 'wal', 'test', String(BigInt(sysid) + 1n))), false);
});

test('history files: pushed from a data directory, restored by wal get', async () => {
  const fake = join(work, 'fake-pgdata');
  mkdirSync(join(fake, 'pg_wal'), { recursive: true });
  mkdirSync(join(fake, 'global'));
  copyFileSync(join(cluster.dataDir, 'global', 'pg_control'), join(fake, 'global', 'pg_control'));
  const history = '1\t0/3000000\tno recovery target specified\n';
  writeFileSync(join(fake, 'pg_wal', '00000002.history'), history);
  const r = await cli(['--repo', repoDir, '--cluster', 'test', 'wal', 'push', 'pg_wal/00000002.history'], {}, fake);
  assert.equal(r.code, 0, r.stderr);
  const dest = join(work, 'restored.history');
  const g = await cli(['--repo', repoDir, '--cluster', 'test', 'wal', 'get', '00000002.history', dest], {}, fake);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(readFileSync(dest, 'utf8'), history);
  await repo.deleteObject(walObjectName('test', sysid, '00000002.history'));
});

test('wal get: 0 restored, 1 not in the archive, 126 for a damaged object or an unusable configuration', async () => {
  const seg = archived[0]!;
  const dest = join(work, 'RECOVERYXLOG');
  const base = ['--repo', repoDir, '--cluster', 'test', 'wal', 'get'];
  const ok = await cli([...base, '--system-id', sysid, seg, dest]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(readFileSync(dest).equals(await repo.getObject(walObjectName('test', sysid, seg))));
  assert.deepEqual(
    readdirSync(work).filter((f) => f.includes('pgkeep-')),
    [],
    'no temp file left',
  );

  // The data directory (cwd, as for restore_command) says which system to read.
  const fromDataDir = await cli([...base, seg, dest], {}, cluster.dataDir);
  assert.equal(fromDataDir.code, 0, fromDataDir.stderr);

  const missing = await cli([...base, '--system-id', sysid, walFileName(1, 0x7000n), dest]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.equal(missing.stderr, '');
  const noHistory = await cli([...base, '--system-id', sysid, '00000009.history', dest]);
  assert.equal(noHistory.code, 1);

  const victim = archived[1]!;
  const key = join(repoDir, 'wal', 'test', sysid, victim.slice(0, 16), `${victim}.zst`);
  const bytes = readFileSync(key);
  bytes[Math.floor(bytes.length / 2)] = bytes[Math.floor(bytes.length / 2)]! ^ 0x55;
  writeFileSync(key, bytes);
  const damaged = await cli([...base, '--system-id', sysid, victim, join(work, 'x')]);
  assert.equal(damaged.code, 126, damaged.stderr);
  assert.match(damaged.stderr, /damaged|integrity|SHA-256|decompression/i);
  assert.equal(existsSync(join(work, 'x')), false, 'nothing written for a damaged object');

  const badConfig = await cli(['--config', join(work, 'no-such.toml'), ...base, seg, dest]);
  assert.equal(badConfig.code, 126, badConfig.stderr);
  const noRepo = await cli(['--repo', join(work, 'no-repo'), '--cluster', 'test', 'wal', 'get', '--system-id', sysid, seg, dest]);
  assert.equal(noRepo.code, 126, noRepo.stderr);
});

test('wal get on an encrypted repository: 0 with the passphrase, 126 with a wrong one', async () => {
  const encDir = join(work, 'enc-repo');
  mkdirSync(encDir);
  const enc = await Repository.init(new PosixDriver(encDir), { kdfCost: KDF, passphrase: 'right horse', jobs: 1 });
  const seg = archived[0]!;
  const file = join(work, 'copies', 'pg_wal', seg);
  writeFileSync(file, await repo.getObject(walObjectName('test', sysid, seg)));
  const push = await cli(['--repo', encDir, '--cluster', 'test', 'wal', 'push', file], { PGKEEP_PASSPHRASE: 'right horse' });
  assert.equal(push.code, 0, push.stderr);
  assert.ok((await enc.statObject(walObjectName('test', sysid, seg)))!.key.endsWith('.zst.enc'));
  const dest = join(work, 'enc-seg');
  const good = await cli(['--repo', encDir, '--cluster', 'test', 'wal', 'get', seg, dest], { PGKEEP_PASSPHRASE: 'right horse' });
  assert.equal(good.code, 0, good.stderr);
  assert.ok(readFileSync(dest).equals(readFileSync(file)));
  const wrong = await cli(['--repo', encDir, '--cluster', 'test', 'wal', 'get', seg, dest], { PGKEEP_PASSPHRASE: 'wrong horse' });
  assert.equal(wrong.code, 126, wrong.stderr);
  assert.doesNotMatch(wrong.stderr + wrong.stdout, /horse/);
});

test('wal get --prefetch: the next segments come from the spool, are removed once used, and match the archive; spool-clean removes it', async () => {
  for (let i = 0; i < 3; i++) await switchAndWait();
  const [first, second, third] = archived.slice(-3);
  const spool = join(work, 'spool');
  const base = ['--repo', repoDir, '--cluster', 'test', 'wal', 'get', '--system-id', sysid, '--prefetch', '2', '--spool-dir', spool];
  const r1 = await cli([...base, first!, join(work, 'p1')]);
  assert.equal(r1.code, 0, r1.stderr);
  const spoolOf = () => {
    const dirs = existsSync(spool) ? readdirSync(spool) : [];
    return dirs.length ? join(spool, dirs[0]!) : undefined;
  };
  const entry = (d: string, name: string) => readdirSync(d).find((e) => e.startsWith(`${name}.`));
  let dir: string | undefined;
  for (let i = 0; i < 200; i++) {
    dir = spoolOf();
    if (dir && entry(dir, second!) && entry(dir, third!)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(
    dir && entry(dir, second!),
    `spool has ${dir ? readdirSync(dir).join(', ') : 'nothing'}; log: ${dir && existsSync(join(dir, 'prefetch.log')) ? readFileSync(join(dir, 'prefetch.log'), 'utf8') : ''}`,
  );
  const r2 = await cli([...base, '--json', second!, join(work, 'p2')]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).source, 'spool');
  assert.ok(readFileSync(join(work, 'p2')).equals(await repo.getObject(walObjectName('test', sysid, second!))));
  assert.equal(entry(dir!, second!), undefined, 'served entries leave the spool');
  // Wrong content under the name (a stale or damaged entry) is never served.
  writeFileSync(join(dir!, entry(dir!, third!)!), Buffer.alloc(16 * 1024 * 1024));
  const r3 = await cli([...base, '--json', third!, join(work, 'p3')]);
  assert.equal(r3.code, 0, r3.stderr);
  assert.equal(JSON.parse(r3.stdout).source, 'repository');
  assert.match(r3.stderr, /spooled \S+ does not match its checksum \(damaged in the spool\)/);
  assert.ok(readFileSync(join(work, 'p3')).equals(await repo.getObject(walObjectName('test', sysid, third!))));
  const clean = await cli(['--cluster', 'test', 'wal', 'spool-clean', '--spool-dir', spool]);
  assert.equal(clean.code, 0, clean.stderr);
  assert.equal(existsSync(spool), false, 'spool-clean removes the spool and stops its prefetcher');
});

test('wal check: continuous archive gives each backup its window; a deleted segment is a gap', async () => {
  await switchAndWait();
  const start = archived[2]!; // archived[1] was damaged above
  const seg = (n: string) => BigInt(`0x${n.slice(8, 16)}`) * 256n + BigInt(`0x${n.slice(16)}`);
  const lsnOf = (n: string, off: number) => {
    const v = seg(n) * 16n * 1024n * 1024n + BigInt(off);
    return `${(v >> 32n).toString(16).toUpperCase()}/${(v & 0xffffffffn).toString(16).toUpperCase()}`;
  };
  const meta: PhysicalBackupMeta = {
    method: 'stream',
    label: 'test',
    standalone: false,
    systemIdentifier: sysid,
    serverVersion: '15',
    serverVersionNum: 150000,
    timeline: 1,
    startLsn: lsnOf(start, 40),
    stopLsn: lsnOf(start, 4000),
    startTime: new Date().toISOString(),
    stopTime: new Date().toISOString(),
    walSegmentSize: 16 * 1024 * 1024,
    walStart: start,
    walEnd: start,
    tablespaces: [],
    dataChecksums: true,
    serverManifest: false,
  };
  const w = await repo.startSnapshot({ cluster: 'test', kind: 'physical' });
  await w.addFile({ path: 'PG_VERSION', type: 'file', mode: 0o600, mtimeMs: Date.now() }, Buffer.from('15\n'));
  const snap = await w.commit(meta as unknown as Record<string, unknown>);

  const args = ['--repo', repoDir, '--cluster', 'test', '--json', 'wal', 'check'];
  let r = await cli(args);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  let report = JSON.parse(r.stdout);
  const newest = archived[archived.length - 1]!;
  assert.equal(report.backups[0].id, snap.id);
  assert.equal(report.backups[0].status, 'ok');
  assert.equal(report.backups[0].lastSegment, newest);
  assert.equal(report.backups[0].to, lsnOf(nextWalFileName(newest), 0));

  const hole = archived[archived.length - 2]!;
  await repo.deleteObject(walObjectName('test', sysid, hole));
  r = await cli(args);
  assert.equal(r.code, 7, r.stdout + r.stderr);
  report = JSON.parse(r.stdout);
  assert.equal(report.backups[0].status, 'gap');
  assert.deepEqual(
    report.backups[0].gaps.map((g: { from: string }) => g.from),
    [hole],
  );
  const tl = report.timelines.find((t: { timeline: number }) => t.timeline === 1);
  assert.ok(tl.gaps.some((g: { from: string; to: string }) => g.from <= hole && g.to >= hole));

  await repo.deleteObject(walObjectName('test', sysid, start));
  r = await cli(['--repo', repoDir, '--cluster', 'test', 'wal', 'check']);
  assert.equal(r.code, 7);
  assert.match(r.stdout, /unrecoverable/);
  assert.match(r.stdout + r.stderr, new RegExp(`${start} is missing`));
});

test('WAL is stored with [archive] compression, by default the repository codec with zstd at level 1; wal get returns the bytes', async () => {
  // The server's pushes (no config file) into a zstd:3 repository: zstd level 1.
  const seg = await switchAndWait();
  const plain = await repo.getObject(walObjectName('test', sysid, seg));
  const key = join(repoDir, 'wal', 'test', sysid, seg.slice(0, 16), `${seg}.zst`);
  const expected = OBJECT_HEADER_BYTES + compressSync(parseCodec('zstd:1'), plain).length + 32; // header, frame, SHA-256
  assert.equal(statSync(key).size, expected, 'stored with zstd level 1 (level 3 is the repository default)');

  // A configured codec, under another cluster name so the push stores a new object.
  const config = join(work, 'lz4.toml');
  writeFileSync(config, `[repo]\npath = "${repoDir}"\n\n[archive]\ncompression = "lz4"\n`);
  const dir = join(work, 'lz4', 'pg_wal');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, seg), plain);
  const push = await cli(['--config', config, '--cluster', 'lz4', 'wal', 'push', join(dir, seg)]);
  assert.equal(push.code, 0, push.stderr);
  assert.deepEqual(readdirSync(join(repoDir, 'wal', 'lz4', sysid, seg.slice(0, 16))), [`${seg}.lz4`]);
  const dest = join(work, 'lz4', 'restored');
  const get = await cli(['--config', config, '--cluster', 'lz4', 'wal', 'get', '--system-id', sysid, seg, dest]);
  assert.equal(get.code, 0, get.stderr);
  assert.ok(readFileSync(dest).equals(plain), 'wal get returns the pushed bytes');

  // Unset, with a repository codec other than zstd (here [repo] compression): that codec.
  writeFileSync(config, `[repo]\npath = "${repoDir}"\ncompression = "none"\n`);
  const raw = await cli(['--config', config, '--cluster', 'raw', 'wal', 'push', join(dir, seg)]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.deepEqual(readdirSync(join(repoDir, 'wal', 'raw', sysid, seg.slice(0, 16))), [`${seg}.raw`]);

  writeFileSync(config, `[repo]\npath = "${repoDir}"\n\n[archive]\ncompression = "zstd:30"\n`);
  const bad = await cli(['--config', config, '--cluster', 'lz4', 'wal', 'push', join(dir, seg)]);
  assert.equal(bad.code, 3, bad.stderr);
  assert.match(bad.stderr, /archive\.compression in .*lz4\.toml.*zstd level must be 1-19/);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LocalCluster, freePort } from '../pg/local-cluster.js';
import { lookupOsUser } from '../pg/server-user.js';
import { PgkeepError } from '../errors.js';
import { Repository, type FileRecord } from '../repo/index.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { newPosixRepo, TEST_KDF } from '../repo/test-utils.js';
import { restore, MARKER_FILE, startRestored, type RestoreOptions } from './index.js';
import { compareWithRecords, listTree } from './test-compare.js';
import { rejectsWithCode } from '../test-support/archiving-source.js';
import { createRestoreSource, tableSums, tcpSession } from './test-restore-source.js';
import { backup } from '../backup/index.js';

const PASSPHRASE = 'restore test passphrase';
const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

let work: string;
let src: LocalCluster;
let repo: Repository;
let repoDir: string;
let passFile: string;
let tsDir: string;
let coldId: string;
let records: FileRecord[];
let expected: Record<string, string>;
const isRoot = process.getuid?.() === 0;

function opts(to: string, extra: Partial<RestoreOptions> = {}): RestoreOptions {
  return { repo, cluster: 'main', id: coldId, to, jobs: 2, access: { repo: repoDir, cluster: 'main', passphraseFile: passFile }, ...extra };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-restore-test-'));
  ({ src, tsDir, expected } = await createRestoreSource(work));

  repoDir = join(work, 'repo');
  passFile = join(work, 'passphrase');
  writeFileSync(passFile, PASSPHRASE + '\n', { mode: 0o600 });
  repo = await newPosixRepo(repoDir, { passphrase: PASSPHRASE, kdfCost: TEST_KDF, chunkSize: 128 * 1024 });
  const b = await backup({ repo, clusterName: 'main', cluster: src.connectionSettings(), method: 'cold', jobs: 2 });
  coldId = b.snapshotId;
  records = [];
  for await (const r of (await repo.readSnapshot('main', coldId)).files()) records.push(r);
});

after(async () => {
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('restore of a cold backup: files, modes, mtimes, owners, tablespace remapped; starts with the same data', async () => {
  const dir = join(work, 'r1');
  const ts = join(work, 'ts1-r1');
  const steps: string[] = [];
  const r = await restore(
    opts(dir, {
      tablespaceMap: [{ from: tsDir, to: ts }],
      onProgress: (p) => {
        if (steps[steps.length - 1] !== p.step) steps.push(p.step);
      },
    }),
  );
  assert.deepEqual(steps, ['resolve', 'check-target', 'plan', 'begin', 'tablespaces', 'write-files', 'recovery-config', 'finish']);
  const files = records.filter((x) => x.type === 'file');
  assert.equal(r.stats.files, files.length);
  assert.equal(
    r.stats.bytes,
    files.reduce((a, f) => a + f.size, 0),
  );
  assert.equal(r.stats.bytesWritten, r.stats.bytes);
  assert.equal(r.stats.filesWritten, files.length);
  assert.equal(r.recovery.mode, 'none');
  assert.equal(existsSync(join(dir, MARKER_FILE)), false);
  assert.equal(existsSync(join(dir, 'recovery.signal')), false);
  const oid = r.tablespaces[0]!.oid;
  assert.deepEqual(r.tablespaces, [{ oid, from: tsDir, to: ts }]);
  assert.equal(readlinkSync(join(dir, 'pg_tblspc', oid)), ts);
  assert.deepEqual(compareWithRecords(dir, records, new Map([[oid, ts]])), []);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  if (isRoot) {
    const pgUser = lookupOsUser('postgres')!;
    for (const p of [dir, join(dir, 'PG_VERSION'), join(dir, 'global/pg_control'), join(dir, 'base'), ts]) {
      assert.equal(statSync(p).uid, pgUser.uid, `${p} belongs to postgres`);
    }
  }

  const { cluster, info } = await startRestored(dir);
  try {
    assert.notEqual(info.port, src.port);
    assert.match(readFileSync(join(dir, 'postgresql.auto.conf'), 'utf8'), /^# disabled by pgkeep restore --start: port = /m);
    assert.deepEqual(await tableSums(cluster), expected);
    const [loc] = await cluster.query<{ l: string }>("select pg_tablespace_location(oid) as l from pg_tablespace where spcname = 'ts1'");
    assert.equal(loc!.l, ts);
  } finally {
    await cluster.destroy();
  }
});

const HOST_TRUST = /^\s*host\S*\s.*\btrust\b/m;

test('--start: no TCP unless asked, the socket in a 0700 directory; no pg_hba.conf gets local lines only; with TCP, passwords', async () => {
  const dir = join(work, 'r1'); // restored (and stopped) by the first test
  rmSync(join(dir, 'pg_hba.conf')); // as from a Debian server, which keeps it in /etc/postgresql
  let s = await startRestored(dir);
  try {
    await assert.rejects(tcpSession(s.info.port), /ECONNREFUSED/);
    assert.doesNotMatch(readFileSync(join(dir, 'pg_hba.conf'), 'utf8'), HOST_TRUST);
    assert.equal(statSync(s.info.socketDir).mode & 0o777, 0o700);
    if (isRoot) assert.equal(statSync(s.info.socketDir).uid, lookupOsUser('postgres')!.uid);
    assert.equal(s.info.listen, '');
    assert.equal(s.info.hba.action, 'written');
    assert.deepEqual(await s.cluster.query('select count(*)::int as n from small', [], 'app'), [{ n: 100 }], 'the socket works');
  } finally {
    await s.cluster.destroy();
  }
  // The backup's own pg_hba.conf trusts host connections (initdb's default), and TCP is asked for.
  writeFileSync(join(dir, 'pg_hba.conf'), 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n');
  s = await startRestored(dir, { listen: '127.0.0.1' });
  try {
    assert.equal(s.info.hba.action, 'hardened');
    assert.equal(s.info.hba.lines.length, 2);
    assert.doesNotMatch(readFileSync(join(dir, 'pg_hba.conf'), 'utf8'), HOST_TRUST);
    await s.cluster.exec("alter role postgres password 'restored-secret'");
    await assert.rejects(tcpSession(s.info.port), /password/);
    await assert.rejects(tcpSession(s.info.port, 'wrong'), /password authentication failed/);
    await tcpSession(s.info.port, 'restored-secret');
  } finally {
    await s.cluster.destroy();
  }
});

test('a restore into the repository, or around it, is refused before anything is written', async () => {
  const before = listTree(repoDir);
  const e = await rejectsWithCode(
    restore(opts(join(repoDir, 'restored'), { tablespaceMap: [{ from: tsDir, to: join(work, 'ts-in-repo') }] })),
    'USAGE',
    /is inside the repository/,
  );
  assert.match(e.hint ?? '', /outside the repository/);
  await rejectsWithCode(
    restore(opts(join(work, 'x'), { tablespaceMap: [{ from: tsDir, to: join(repoDir, 'ts') }] })),
    'USAGE',
    /tablespace .* is inside the repository/,
  );
  // The repository inside the target (even with --delta, which would remove it as a stray).
  await rejectsWithCode(
    restore(opts(work, { delta: true, tablespaceMap: [{ from: tsDir, to: join(work, 'ts-around') }] })),
    'USAGE',
    /the repository .* is inside the restore target/,
  );
  assert.deepEqual(listTree(repoDir), before);
  assert.equal(existsSync(join(work, 'x')), false);
});

test('a non-empty directory is refused (hint: --delta) and left untouched', async () => {
  const dir = join(work, 'nonempty');
  mkdirSync(dir);
  writeFileSync(join(dir, 'precious'), 'x');
  const e = await rejectsWithCode(
    restore(opts(dir, { tablespaceMap: [{ from: tsDir, to: join(work, 'ts-ne') }] })),
    'CONFLICT',
    /is not empty/,
  );
  assert.match(e.hint ?? '', /--delta/);
  assert.deepEqual(listTree(dir), ['precious']);
  assert.equal(existsSync(join(work, 'ts-ne')), false);
});

test('a tablespace whose recorded location is in use is refused before anything is written', async () => {
  const dir = join(work, 'no-map');
  const e = await rejectsWithCode(restore(opts(dir)), 'CONFLICT', /tablespace .* is not empty/);
  assert.match(e.hint ?? '', /--tablespace-map/);
  assert.equal(existsSync(dir), false);
});

test('--delta over a damaged copy rewrites only the damaged chunk and the missing file, removes strays, then starts', async () => {
  const dir = join(work, 'delta');
  const ts = join(work, 'ts-delta');
  await restore(opts(dir, { tablespaceMap: [{ from: tsDir, to: ts }] }));
  const chunk = repo.chunkSize;
  const victim = records.filter((x) => x.type === 'file' && /^base\/\d+\/\d+$/.test(x.path)).sort((a, b) => b.size - a.size)[0]!;
  assert.ok(victim.size > 3 * chunk, `${victim.path} has several chunks`);
  const fd = openSync(join(dir, victim.path), 'r+');
  const before = Buffer.alloc(4);
  readSync(fd, before, 0, 4, 2 * chunk + 100);
  writeSync(fd, Buffer.from(before.map((b) => b ^ 0xff)), 0, 4, 2 * chunk + 100);
  closeSync(fd);
  unlinkSync(join(dir, 'base/1/PG_VERSION'));
  writeFileSync(join(dir, 'base/1/999999'), 'stray relation');
  mkdirSync(join(dir, 'stray-dir'));
  writeFileSync(join(dir, 'stray-dir/file'), 'stray');
  writeFileSync(join(dir, 'postmaster.pid'), '999999999\n');

  let started: LocalCluster | undefined;
  try {
    const r = await restore(
      opts(dir, { delta: true, tablespaceMap: [{ from: tsDir, to: ts }], start: true, onStarted: (c) => (started = c) }),
    );
    const pgVersionSize = records.find((x) => x.path === 'base/1/PG_VERSION')!.size;
    assert.equal(r.stats.chunksWritten, 2);
    assert.equal(r.stats.filesWritten, 2);
    assert.equal(r.stats.bytesWritten, chunk + pgVersionSize);
    assert.equal(r.stats.filesUnchanged, r.stats.files - 2);
    assert.deepEqual(r.removed, ['base/1/999999', 'postmaster.pid', 'stray-dir']);
    assert.equal(r.stats.filesRemoved, 3);
    assert.ok(r.started && started);
    assert.deepEqual(await tableSums(started!), expected);
  } finally {
    await started?.destroy();
  }
});

test('an interrupted restore leaves its marker and no pg_control; plain restore refuses, --delta finishes it', async () => {
  const dir = join(work, 'interrupted');
  const ts = join(work, 'ts-interrupted');
  const ac = new AbortController();
  const map = [{ from: tsDir, to: ts }];
  await rejectsWithCode(
    restore(
      opts(dir, {
        tablespaceMap: map,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytesDone > 4 * 1024 * 1024) ac.abort(new PgkeepError('INTERRUPTED', 'test interruption'));
        },
      }),
    ),
    'INTERRUPTED',
  );
  assert.ok(existsSync(join(dir, MARKER_FILE)));
  assert.equal(existsSync(join(dir, 'global/pg_control')), false, 'cannot be started');
  const e = await rejectsWithCode(restore(opts(dir, { tablespaceMap: map })), 'CONFLICT', /was interrupted/);
  assert.match(e.hint ?? '', /--delta/);
  const r = await restore(opts(dir, { tablespaceMap: map, delta: true }));
  assert.equal(r.resumed, coldId);
  assert.equal(existsSync(join(dir, MARKER_FILE)), false);
  const oid = r.tablespaces[0]!.oid;
  assert.deepEqual(compareWithRecords(dir, records, new Map([[oid, ts]])), []);
});

test('a damaged blob fails with DATA_INTEGRITY naming the file, and the marker stays', async () => {
  const copy = join(work, 'repo-damaged');
  cpSync(repoDir, copy, { recursive: true });
  const victim = records.filter((x) => x.type === 'file' && x.path.startsWith('base/')).sort((a, b) => b.size - a.size)[0]!;
  const c = victim.chunks[1]!;
  const packs = listTree(join(copy, 'packs')).filter((p) => p.includes(c.pack));
  assert.equal(packs.length, 1, `pack ${c.pack} found`);
  const packFile = join(copy, 'packs', packs[0]!);
  const fd = openSync(packFile, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, c.packOffset + Math.floor(c.length / 2));
  writeSync(fd, Buffer.from([b[0]! ^ 0x55]), 0, 1, c.packOffset + Math.floor(c.length / 2));
  closeSync(fd);
  const damaged = await Repository.open(new PosixDriver(copy), { getPassphrase: async () => PASSPHRASE, jobs: 2 });
  const dir = join(work, 'from-damaged');
  try {
    const e = await rejectsWithCode(
      restore({ ...opts(dir, { tablespaceMap: [{ from: tsDir, to: join(work, 'ts-damaged') }] }), repo: damaged }),
      'DATA_INTEGRITY',
    );
    assert.ok(e.message.includes(victim.path), e.message);
  } finally {
    await damaged.close();
  }
  assert.ok(existsSync(join(dir, MARKER_FILE)));
  assert.equal(existsSync(join(dir, 'global/pg_control')), false);
});

test('CLI: pgkeep restore --json, then CONFLICT (exit 11) on the same directory', () => {
  const dir = join(work, 'cli');
  const run = (extra: string[]) =>
    spawnSync(
      process.execPath,
      [
        BIN,
        '--repo',
        repoDir,
        '--cluster',
        'main',
        '--passphrase-file',
        passFile,
        '--json',
        'restore',
        coldId,
        '--to',
        dir,
        '--tablespace-map',
        `${tsDir}=${join(work, 'ts-cli')}`,
        '--jobs',
        '2',
        ...extra,
      ],
      { encoding: 'utf8' },
    );
  const first = run([]);
  assert.equal(first.status, 0, first.stderr + first.stdout);
  const out = JSON.parse(first.stdout);
  assert.equal(out.snapshotId, coldId);
  assert.equal(out.stats.files, records.filter((x) => x.type === 'file').length);
  assert.equal(out.dataDir, dir);
  const second = run([]);
  assert.equal(second.status, 11);
  assert.equal(JSON.parse(second.stdout).error.code, 'CONFLICT');
  const bad = run(['--port', '5999']);
  assert.equal(bad.status, 2, 'USAGE: --port without --start');
  assert.ok(readdirSync(dir).length > 0 && lstatSync(join(dir, 'global/pg_control')).isFile());
});

test('CLI: --start leaves the restored server running on the given port and says how to stop it', async () => {
  const dir = join(work, 'cli-start');
  const port = await freePort();
  const r = spawnSync(
    process.execPath,
    [
      BIN,
      '--repo',
      repoDir,
      '--cluster',
      'main',
      '--passphrase-file',
      passFile,
      '--json',
      'restore',
      coldId,
      '--to',
      dir,
      '--tablespace-map',
      `${tsDir}=${join(work, 'ts-cli-start')}`,
      '--start',
      '--port',
      String(port),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout);
  assert.equal(out.started.port, port);
  try {
    const client = new pg.Client({ host: out.started.socketDir, port, user: 'postgres', database: 'app' });
    await client.connect();
    try {
      const res = await client.query('select count(*)::int as n from big');
      assert.equal(res.rows[0].n, 20000);
    } finally {
      await client.end();
    }
  } finally {
    const stop = spawnSync('sh', ['-c', out.started.stopCommand], { encoding: 'utf8' });
    assert.equal(stop.status, 0, stop.stderr);
    rmSync(dirname(out.started.socketDir), { recursive: true, force: true });
  }
  assert.equal(existsSync(join(dir, 'postmaster.pid')), false);
});

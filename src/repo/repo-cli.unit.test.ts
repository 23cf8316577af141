import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open, writeFile, mkdir } from 'node:fs/promises';
import { PosixDriver } from './storage/posix/index.js';
import { Repository } from './repository.js';
import { packKey } from './pack-format.js';
import { compressibleData, tempDir } from './test-utils.js';

const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));
let dir: { path: string; remove(): Promise<void> };

before(async () => {
  dir = await tempDir('pgkeep-cli-');
});
after(async () => {
  await dir.remove();
});

function pgkeep(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string; json?: any } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir.path,
    env: { PATH: process.env.PATH!, HOME: dir.path, ...env },
    encoding: 'utf8',
  });
  let json: any;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

test('repo init, info, check, gc on a plain repository', async () => {
  const repo = join(dir.path, 'plain');
  const env = { PGKEEP_REPO: repo };
  const init = pgkeep(['repo', 'init', '--compression', 'lz4', '--chunk-size', '64k'], env);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /initialized pgkeep repository/);
  assert.equal(pgkeep(['repo', 'init'], env).code, 11, 'an existing repository is refused');
  assert.equal(pgkeep(['repo', 'init', '--compression', 'brotli'], { PGKEEP_REPO: join(dir.path, 'x') }).code, 2);

  const info0 = pgkeep(['--json', 'repo', 'info'], env);
  assert.equal(info0.code, 0, info0.stderr);
  assert.equal(info0.json.version, 2);
  assert.equal(info0.json.encryption, 'none');
  assert.equal(info0.json.compression, 'lz4');
  assert.equal(info0.json.chunkSize, 65536);
  assert.equal(info0.json.snapshots, 0);

  // a snapshot written through the API
  const r = await Repository.open(new PosixDriver(repo));
  const w = await r.startSnapshot({ cluster: 'main', kind: 'physical' });
  const data = compressibleData(300_000);
  const rec = await w.addFile({ path: 'base/1/2', type: 'file', mode: 0o600, mtimeMs: 1 }, data);
  const m = await w.commit({});
  await r.close();

  const info = pgkeep(['--json', 'repo', 'info'], env);
  assert.equal(info.json.snapshots, 1);
  assert.equal(info.json.logicalBytes, data.length);
  assert.ok(info.json.ratio > 1.5, `ratio ${info.json.ratio}`);
  assert.deepEqual(info.json.clusters, [{ name: 'main', snapshots: 1, latest: m.id }]);
  const text = pgkeep(['repo', 'info'], env);
  assert.match(text.stdout, /snapshots +1 \(main: 1\)/);

  const ok = pgkeep(['--json', 'repo', 'check', '--read-data'], env);
  assert.equal(ok.code, 0, ok.stdout);
  assert.equal(ok.json.ok, true);
  assert.equal(ok.json.blobsRead, rec.chunks.length + 1);

  // one flipped byte: structure check passes, --read-data fails with exit 7 naming it
  const c = rec.chunks[2]!;
  const fh = await open(join(repo, ...packKey(c.pack).split('/')), 'r+');
  await fh.write(Buffer.from([0x5a]), 0, 1, c.packOffset + 30);
  await fh.close();
  assert.equal(pgkeep(['repo', 'check'], env).code, 0);
  const bad = pgkeep(['--json', 'repo', 'check', '--read-data'], env);
  assert.equal(bad.code, 7);
  assert.equal(bad.json.damaged[0].object, packKey(c.pack));
  assert.equal(bad.json.damaged[0].offset, c.packOffset);
  assert.deepEqual(bad.json.damaged[0].snapshots, [`main/${m.id}`]);
  const badText = pgkeep(['repo', 'check', '--read-data'], env);
  assert.equal(badText.code, 7);
  assert.match(badText.stdout, new RegExp(`main/${m.id}`));
  assert.match(badText.stderr, /damaged object/);

  // gc: nothing to do, then everything once the snapshot is gone
  const none = pgkeep(['--json', 'repo', 'gc'], env);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.json.deleted.length, 0);
  const r2 = await Repository.open(new PosixDriver(repo));
  await r2.deleteSnapshot('main', m.id);
  const dry = pgkeep(['--json', 'repo', 'gc', '--dry-run'], env);
  assert.equal(dry.json.dryRun, true);
  assert.equal(dry.json.deleted.length, 1);
  assert.ok(dry.json.bytesFreed > 0);
  assert.match(pgkeep(['repo', 'gc', '--dry-run'], env).stdout, /would free/);
  const real = pgkeep(['--json', 'repo', 'gc'], env);
  assert.equal(real.json.deleted.length, 1);
  let packs = 0;
  for await (const _ of r2.driver.list('packs/')) packs++;
  assert.equal(packs, 0);
  assert.deepEqual(pgkeep(['--json', 'repo', 'locks'], env).json, []);
});

test('encrypted repository: passphrase sources, wrong passphrase, passphrase change', async () => {
  const repo = join(dir.path, 'enc');
  const pass = join(dir.path, 'pass.txt');
  await writeFile(pass, 'file secret\n');
  assert.equal(pgkeep(['--repo', repo, '--passphrase-file', pass, 'repo', 'init', '--encrypt'], {}).code, 0);
  const info = pgkeep(['--repo', repo, '--passphrase-file', pass, '--json', 'repo', 'info'], {});
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.json.encryption, /aes-256-gcm/);
  const none = pgkeep(['--repo', repo, 'repo', 'info'], {});
  assert.equal(none.code, 9);
  const wrong = pgkeep(['--repo', repo, 'repo', 'info'], { PGKEEP_PASSPHRASE: 'guess-123' });
  assert.equal(wrong.code, 9);
  assert.ok(!wrong.stderr.includes('guess-123') && !wrong.stdout.includes('guess-123'));

  const change = pgkeep(['--repo', repo, 'repo', 'passphrase', 'change'], {
    PGKEEP_PASSPHRASE: 'file secret',
    PGKEEP_NEW_PASSPHRASE: 'new secret',
  });
  assert.equal(change.code, 0, change.stderr);
  assert.equal(pgkeep(['--repo', repo, 'repo', 'info'], { PGKEEP_PASSPHRASE: 'file secret' }).code, 9);
  assert.equal(pgkeep(['--repo', repo, 'repo', 'check'], { PGKEEP_PASSPHRASE: 'new secret' }).code, 0);
});

test('repo commands without a repository location, or on a directory that is not one', async () => {
  const r = pgkeep(['repo', 'info'], {});
  assert.equal(r.code, 6);
  assert.match(r.stderr, /--repo|PGKEEP_REPO/);
  const other = join(dir.path, 'other');
  await mkdir(other);
  await writeFile(join(other, 'file'), 'x');
  assert.equal(pgkeep(['--repo', other, 'repo', 'init'], {}).code, 11);
  assert.equal(pgkeep(['--repo', other, 'repo', 'info'], {}).code, 6);
});

test('repo init inside a PostgreSQL data directory (PG_VERSION and global/pg_control above it) is refused; nothing is created', async () => {
  const pgdata = join(dir.path, 'pgdata');
  await mkdir(join(pgdata, 'global'), { recursive: true });
  await writeFile(join(pgdata, 'PG_VERSION'), '15\n');
  await writeFile(join(pgdata, 'global', 'pg_control'), Buffer.alloc(8192));
  const r = pgkeep(['repo', 'init'], { PGKEEP_REPO: join(pgdata, 'backups', 'repo') });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /is inside the PostgreSQL data directory .*pgdata/);
  assert.equal(spawnSync('ls', [join(pgdata, 'backups')]).status !== 0, true, 'nothing was created');
});

/**
 * The ownership rule of a posix repository (repo-owner.ts), as root with the real `postgres` OS
 * user: one owner (the owner of pgkeep.json); root writes as that owner; anyone else is refused
 * up front, naming the owner.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PosixDriver } from './posix-driver.js';
import { Repository } from '../../repository.js';
import { checkClusterIdentity } from '../../../holdings/cluster-identity.js';
import { lookupOsUser } from '../../../pg/server-user.js';
import { runCli } from '../../../test-support/run-cli.js';

const asRoot = process.getuid?.() === 0;
const pg = lookupOsUser('postgres');
const skip = (!asRoot || !pg) && 'needs root and a postgres OS user';
const base = mkdtempSync(join(tmpdir(), 'pgkeep-owner-'));
chmodSync(base, 0o755);
after(() => rmSync(base, { recursive: true, force: true }));

/** A root-owned directory anyone may write into (mode 1777 would do too): the tester's setup. */
function worldWritableDir(name: string): string {
  const dir = join(base, name);
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  return dir;
}

function env(repo: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PGKEEP_|PG)/.test(k)) e[k] = v;
  return { ...e, HOME: base, PGKEEP_REPO: repo };
}

const asPostgres = () => ({ uid: pg!.uid, gid: pg!.gid, cwd: base });

test('root writes into a repository owned by another user as that user', { skip: !asRoot && 'needs root' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-owner-'));
  try {
    chownSync(dir, 4242, 4243);
    const d = new PosixDriver(dir);
    await d.put('wal/main/1/a', Buffer.from('x'));
    assert.equal(await d.createIfAbsent('locks/shared/b', Buffer.from('y')), true);
    for (const p of ['wal', 'wal/main', 'wal/main/1', 'wal/main/1/a', 'locks/shared/b']) {
      const st = statSync(join(dir, p));
      assert.deepEqual([p, st.uid, st.gid], [p, 4242, 4243]);
    }
    await d.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('postgres made the repository in a root-owned 0777 directory: what root writes there stays readable to postgres', {
  skip,
}, async () => {
  const dir = worldWritableDir('by-postgres');
  const init = await runCli(['repo', 'init'], { env: env(dir), ...asPostgres() });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /owner postgres \(uid \d+\): only this user \(and root\) can use it/);

  // root records the cluster's identity, as a backup run as root does
  const repo = await Repository.open(new PosixDriver(dir));
  await checkClusterIdentity(repo, 'main', '7300000000000000001');
  await repo.close();
  for (const st of [statSync(join(dir, 'clusters')), statSync(join(dir, 'clusters', 'main'))]) assert.equal(st.uid, pg!.uid);

  // postgres' archive_command reads that identity and archives a .history file
  writeFileSync(join(base, '00000002.history'), '1\t0/3000000\tno recovery target specified\n');
  chmodSync(join(base, '00000002.history'), 0o644);
  const push = await runCli(['wal', 'push', join(base, '00000002.history')], { env: env(dir), ...asPostgres() });
  assert.equal(push.code, 0, push.stderr);
  const get = await runCli(['wal', 'get', '--system-id', '7300000000000000001', '00000002.history', join(dir, '..', 'h')], {
    env: env(dir),
  });
  assert.equal(get.code, 0, get.stderr);
});

test('a repository root made for itself is refused to postgres up front, naming the owner and the fix', { skip }, async () => {
  const dir = worldWritableDir('by-root');
  const init = await runCli(['repo', 'init'], { env: env(dir), cwd: base });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /owner root \(uid 0\).*use "repo init --owner postgres"/);
  for (const cmd of [
    ['repo', 'info'],
    ['wal', 'get', '--system-id', '1', '000000010000000000000001', join(base, 'x')],
  ]) {
    const r = await runCli(cmd, { env: env(dir), ...asPostgres() });
    assert.equal(r.code, cmd[0] === 'wal' ? 126 : 6, r.stderr);
    assert.match(r.stderr, new RegExp(`repository ${dir} belongs to OS user root \\(uid 0\\); pgkeep runs as postgres`));
    assert.match(r.stderr, /chown -R postgres: /);
  }
});

test('repo init --owner postgres, as root, gives the directory and every file to postgres', { skip }, async () => {
  const dir = worldWritableDir('for-postgres');
  const init = await runCli(['repo', 'init', '--owner', 'postgres'], { env: env(dir), cwd: base });
  assert.equal(init.code, 0, init.stderr);
  assert.equal(statSync(dir).uid, pg!.uid);
  assert.equal(statSync(join(dir, 'pgkeep.json')).uid, pg!.uid);
  const info = await runCli(['repo', 'info'], { env: env(dir), ...asPostgres() });
  assert.equal(info.code, 0, info.stderr);
  const bad = await runCli(['repo', 'init', '--owner', 'no-such-user-here'], { env: env(worldWritableDir('x')), cwd: base });
  assert.equal(bad.code, 2, bad.stderr);
  // a location init refuses is not given away
  const busy = worldWritableDir('busy');
  writeFileSync(join(busy, 'precious'), 'x');
  const refused = await runCli(['repo', 'init', '--owner', 'postgres'], { env: env(busy), cwd: base });
  assert.equal(refused.code, 11, refused.stderr);
  assert.equal(statSync(busy).uid, 0);
});

test("a repository handed over with chown -R while root has it open: root's next files follow the new owner", {
  skip: !asRoot && 'needs root',
}, async () => {
  const dir = mkdtempSync(join(base, 'handover-'));
  const d = new PosixDriver(dir);
  await d.put('pgkeep.json', Buffer.from('{}'));
  await d.put('a/one', Buffer.from('1'));
  assert.equal(statSync(join(dir, 'a', 'one')).uid, 0);
  for (const p of ['', 'pgkeep.json', 'a', 'a/one']) chownSync(join(dir, p), 4242, 4243);
  await d.put('a/two', Buffer.from('2'));
  await d.put('b/three', Buffer.from('3'));
  for (const p of ['a/two', 'b', 'b/three']) assert.deepEqual([p, statSync(join(dir, p)).uid, statSync(join(dir, p)).gid], [p, 4242, 4243]);
});

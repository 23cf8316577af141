/**
 * The sh front (bin/pgkeep) answers `wal push PATH` of an acknowledged file only while the front
 * record a node push left holds: same arguments, working directory, environment, config file not
 * modified, no new config file earlier in the search path. Real files, a real node push to write
 * the record; the node the front would fall back to is a stub that records being called.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAckFifo, notifyAck } from '../wal/async-push/ack-fifo.js';
import { pushSpoolDir } from '../wal/async-push/acks.js';
import { frontPushRecordPath } from '../wal/async-push/front-record.js';

const FRONT = fileURLToPath(new URL('../../bin/pgkeep', import.meta.url));
const SEG = '000000010000000000000005';

interface Place {
  work: string;
  data: string;
  home: string;
  config: string;
  repo: string;
  stub: string;
  called: string;
  env: Record<string, string>;
}

function place(t: { after: (fn: () => void) => void }): Place {
  const work = mkdtempSync(join(tmpdir(), 'pgkeep-front-push-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  const home = join(work, 'home');
  const repo = join(work, 'repo');
  mkdirSync(join(data, 'pg_wal'), { recursive: true });
  mkdirSync(home);
  for (const n of [SEG, '000000010000000000000006']) writeFileSync(join(data, 'pg_wal', n), 'wal');
  const config = join(work, 'pgkeep.toml');
  writeFileSync(config, `[repo]\npath = "${repo}"\n\n[archive]\nasync = true\n`);
  const old = new Date(Date.now() - 60_000);
  utimesSync(config, old, old);
  // The file the pusher would have acknowledged.
  const acks = join(pushSpoolDir(join(data, 'pg_wal', 'pgkeep-spool'), 'test', repo), 'acks');
  mkdirSync(acks, { recursive: true });
  writeFileSync(join(acks, SEG), '{}');
  const called = join(work, 'node-called');
  const stub = join(work, 'stub-node');
  writeFileSync(stub, `#!/bin/sh\necho "$*" >> '${called}'\nexit 3\n`, { mode: 0o755 });
  return { work, data, home, config, repo, stub, called, env: { PATH: process.env.PATH!, HOME: home } };
}

/** The front with the stub as node: its exit code and whether node was started. */
function front(p: Place, args: string[], o: { env?: Record<string, string>; cwd?: string } = {}): { code: number | null; node: boolean } {
  rmSync(p.called, { force: true });
  const r = spawnSync(FRONT, args, { cwd: o.cwd ?? p.data, env: { ...p.env, PGKEEP_NODE: p.stub, ...o.env }, encoding: 'utf8' });
  return { code: r.status, node: existsSync(p.called) };
}

/** front(), without blocking this process (a timer of the test must run meanwhile). */
function frontAsync(p: Place, args: string[]): Promise<{ code: number | null; node: boolean }> {
  rmSync(p.called, { force: true });
  return new Promise((res) => {
    const c = spawn(FRONT, args, { cwd: p.data, env: { ...p.env, PGKEEP_NODE: p.stub }, stdio: 'ignore' });
    c.on('exit', (code) => res({ code, node: existsSync(p.called) }));
  });
}

/** A node push through bin/pgkeep.js (the file is acknowledged: its fast path answers) writes the record. */
function nodePush(p: Place, args: string[], env: Record<string, string> = {}): void {
  const r = spawnSync(process.execPath, [join(FRONT, '..', 'pgkeep.js'), ...args], {
    cwd: p.data,
    env: { ...p.env, ...env },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(frontPushRecordPath(join(p.data, 'pg_wal'))), 'the node push left the front record');
}

const pushArgs = (p: Place, extra: string[] = []) => ['--config', p.config, '--cluster', 'test', ...extra, 'wal', 'push', `pg_wal/${SEG}`];

test('front push: an acknowledged file is answered by sh alone while the record holds', (t) => {
  const p = place(t);
  assert.deepEqual(front(p, pushArgs(p)), { code: 3, node: true }, 'no record yet: node decides');
  nodePush(p, pushArgs(p));
  assert.deepEqual(front(p, pushArgs(p)), { code: 0, node: false }, 'acknowledged: 0 without node');
  const link = join(p.work, 'link');
  symlinkSync(p.data, link);
  assert.deepEqual(front(p, pushArgs(p), { cwd: link }), { code: 0, node: false }, 'the same directory through a symlink');
  assert.deepEqual(front(p, pushArgs(p).slice(0, -1).concat(`${p.data}/pg_wal/${SEG}`)), { code: 0, node: false }, 'the absolute path');
  // Everything else goes to node.
  assert.equal(front(p, [...pushArgs(p).slice(0, -1), 'pg_wal/000000010000000000000006']).node, true, 'not acknowledged');
  assert.equal(front(p, [...pushArgs(p).slice(0, -1), 'pg_wal/000000010000000000000007']).node, true, 'no such file');
  assert.equal(front(p, pushArgs(p, ['--log-level', 'debug'])).node, true, 'other arguments');
  assert.equal(
    front(p, ['--cluster', 'test', '--config', p.config, 'wal', 'push', `pg_wal/${SEG}`]).node,
    true,
    'arguments in another order',
  );
  assert.equal(front(p, pushArgs(p), { cwd: p.work }).node, true, 'another working directory');
  const record = readFileSync(frontPushRecordPath(join(p.data, 'pg_wal')), 'utf8');
  assert.match(record, /^unset PGKEEP_REPO$/m);
  for (const [k, v] of [
    ['PGKEEP_REPO', join(p.work, 'other-repo')],
    ['PGKEEP_ARCHIVE_ASYNC', 'off'],
    ['PGKEEP_CONFIG', p.config],
  ] as const) {
    assert.deepEqual(
      front(p, pushArgs(p), { env: { [k]: v } }),
      { code: 3, node: true },
      `${k} set (the record says unset or another value)`,
    );
  }
  // Variables the resolution did not read (--cluster and --config are given) change nothing.
  for (const [k, v] of [
    ['PGKEEP_CLUSTER', 'other'],
    ['HOME', p.work],
  ] as const) {
    assert.deepEqual(front(p, pushArgs(p), { env: { [k]: v } }), { code: 0, node: false }, `${k} is not part of this resolution`);
  }
  assert.deepEqual(front(p, pushArgs(p)), { code: 0, node: false }, 'the record still holds');
  writeFileSync(p.config, `[repo]\npath = "${join(p.work, 'other-repo')}"\n\n[archive]\nasync = true\n`);
  assert.deepEqual(front(p, pushArgs(p)), { code: 3, node: true }, 'the config file changed since the record: node');
});

/** A record written, the next file queued (.ready) and not acknowledged, a live "pusher" holding the spool's lock. */
function queuedWithPusher(t: { after: (fn: () => void) => void }) {
  const p = place(t);
  nodePush(p, pushArgs(p));
  const next = '000000010000000000000006';
  const args = [...pushArgs(p).slice(0, -1), `pg_wal/${next}`];
  const spool = pushSpoolDir(join(p.data, 'pg_wal', 'pgkeep-spool'), 'test', p.repo);
  mkdirSync(join(p.data, 'pg_wal', 'archive_status'));
  writeFileSync(join(p.data, 'pg_wal', 'archive_status', `${next}.ready`), '');
  // A process whose command line is that of the spool's pusher, holding its lock.
  const pusher = spawn('/bin/sh', ['-c', 'sleep 30; :', 'push-worker', '--spool-dir', spool], { stdio: 'ignore' });
  t.after(() => pusher.kill('SIGKILL'));
  writeFileSync(join(spool, 'pusher.lock'), String(pusher.pid));
  return { p, next, args, spool, pusher };
}

test('front push: a queued file is waited for while the live pusher of the spool works; a dead pusher sends it to node', async (t) => {
  const { p, next, args, spool, pusher } = queuedWithPusher(t);
  await new Promise((r) => setTimeout(r, 100));
  setTimeout(() => writeFileSync(join(spool, 'acks', next), '{}'), 400);
  const started = Date.now();
  const waited = await frontAsync(p, args);
  assert.deepEqual(waited, { code: 0, node: false }, 'acknowledged while the front waited');
  assert.ok(Date.now() - started >= 350, 'it waited for the acknowledgement');
  rmSync(join(spool, 'acks', next));
  pusher.kill('SIGKILL');
  await new Promise((r) => pusher.on('exit', r));
  assert.deepEqual(front(p, args), { code: 3, node: true }, 'no live pusher: node');
  writeFileSync(join(spool, 'pusher.lock'), String(process.pid));
  assert.deepEqual(front(p, args), { code: 3, node: true }, 'the lock names another program: node');
});

test("front push: with the pusher's ack.fifo, a waiting push is woken by the acknowledgement instead of polling", async (t) => {
  const { p, next, args, spool, pusher } = queuedWithPusher(t);
  assert.ok(createAckFifo(spool), 'the pipe is made');
  // A `sleep` on PATH that counts its calls: polling would call it every 20 ms.
  const bin = join(p.work, 'bin');
  const sleeps = join(p.work, 'sleeps');
  mkdirSync(bin);
  writeFileSync(join(bin, 'sleep'), `#!/bin/sh\necho "$*" >> '${sleeps}'\nexec /bin/sleep "$@"\n`, { mode: 0o755 });
  await new Promise((r) => setTimeout(r, 100));
  setTimeout(() => {
    writeFileSync(join(spool, 'acks', next), '{}'); // what the pusher does: the acknowledgement, then the line
    notifyAck(spool, next);
  }, 500);
  const started = Date.now();
  const woken = await new Promise<number | null>((res) => {
    const c = spawn(FRONT, args, { cwd: p.data, env: { ...p.env, PATH: `${bin}:${p.env.PATH}`, PGKEEP_NODE: p.stub }, stdio: 'ignore' });
    c.on('exit', (code) => res(code));
  });
  assert.equal(woken, 0, 'acknowledged while the front waited');
  assert.ok(Date.now() - started >= 450, 'it waited for the acknowledgement');
  assert.ok(!existsSync(p.called), 'without node');
  const calls = existsSync(sleeps) ? readFileSync(sleeps, 'utf8').trim().split('\n') : [];
  assert.ok(calls.length <= 1, `no polling: sleep ran ${calls.length} times (${calls.join(', ')})`);

  // The pusher dies while a push waits: the watchdog's next tick sends the push to node.
  rmSync(join(spool, 'acks', next));
  const dead = frontAsync(p, args);
  await new Promise((r) => setTimeout(r, 200));
  pusher.kill('SIGKILL');
  assert.deepEqual(await dead, { code: 3, node: true }, 'the pusher died: node');
});

test('front push: a config file found in the search path; one appearing earlier in it sends the push to node', (t) => {
  const p = place(t);
  const homeConfig = join(p.home, '.config', 'pgkeep', 'pgkeep.toml');
  mkdirSync(join(homeConfig, '..'), { recursive: true });
  writeFileSync(homeConfig, readFileSync(p.config));
  const old = new Date(Date.now() - 60_000);
  utimesSync(homeConfig, old, old);
  const args = ['--cluster', 'test', 'wal', 'push', `pg_wal/${SEG}`];
  nodePush(p, args);
  const record = readFileSync(frontPushRecordPath(join(p.data, 'pg_wal')), 'utf8');
  assert.match(record, new RegExp(`^absent ${join(p.data, 'pgkeep.toml')}$`, 'm'), 'the working directory is searched first');
  assert.match(record, new RegExp(`^config ${homeConfig}$`, 'm'));
  assert.deepEqual(front(p, args), { code: 0, node: false });
  writeFileSync(join(p.data, 'pgkeep.toml'), '[archive]\nasync = false\n');
  assert.deepEqual(front(p, args), { code: 3, node: true }, './pgkeep.toml now exists: it would be read instead');
  rmSync(join(p.data, 'pgkeep.toml'));
  rmSync(homeConfig);
  assert.deepEqual(front(p, args), { code: 3, node: true }, 'the config file is gone');
});

test('front push: without PGKEEP_NODE the node on PATH runs; none there is a clear error (exit 127)', (t) => {
  const p = place(t);
  const bin = join(p.work, 'bin');
  mkdirSync(bin);
  symlinkSync(p.stub, join(bin, 'node'));
  rmSync(p.called, { force: true });
  const viaPath = spawnSync(FRONT, ['--version'], { cwd: p.data, env: { PATH: `${bin}:/usr/bin:/bin` }, encoding: 'utf8' });
  assert.equal(viaPath.status, 3);
  assert.match(readFileSync(p.called, 'utf8'), /pgkeep\.js --version/);
  const none = spawnSync(FRONT, ['--version'], { cwd: p.data, env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  assert.equal(none.status, 127);
  assert.match(none.stderr, /cannot run Node\.js .*PGKEEP_NODE/);
  // Through a symlink (npm's node_modules/.bin/pgkeep): bin/pgkeep.js is found next to the real file.
  const linked = join(p.work, 'pgkeep-link');
  symlinkSync(FRONT, linked);
  const r = spawnSync(linked, ['--version'], {
    cwd: p.data,
    env: { PATH: process.env.PATH!, PGKEEP_NODE: process.execPath },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\d+\.\d+\.\d+/);
});

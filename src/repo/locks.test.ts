/**
 * Repository locks on both drivers (posix, and S3 on a real Ceph RGW whose conditional create
 * makes the exclusive lock atomic). PGKEEP_TEST_S3=skip runs posix only.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPgkeepError, PgkeepError } from '../errors.js';
import { storageFixtures, testedStorageKinds } from '../test-support/storage-fixtures.js';
import { acquireLock, breakLock, EXCLUSIVE_KEY, listLocks, oldestSharedLockStart, SHARED_PREFIX, type LockInfo } from './locks.js';
import type { StorageDriver } from './storage/driver.js';

const fx = storageFixtures();
after(() => fx.stop());

async function keys(d: StorageDriver): Promise<string[]> {
  const out: string[] = [];
  for await (const o of d.list('locks/')) out.push(o.key);
  return out;
}

function lockedError(e: unknown): PgkeepError {
  assert.ok(isPgkeepError(e), `expected a PgkeepError, got ${String(e)}`);
  assert.equal(e.code, 'LOCKED');
  return e;
}

/** The pid of a process that has exited (so it is certainly not running). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

function fakeLock(over: Partial<LockInfo>): LockInfo {
  const now = new Date().toISOString();
  return {
    id: 'f00dfeedf00dfeed',
    kind: 'exclusive',
    purpose: 'gc',
    owner: 'postgres',
    host: hostname(),
    pid: process.pid,
    startedAt: now,
    heartbeatAt: now,
    ...over,
  };
}

async function until(what: string, cond: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const kind of testedStorageKinds()) {
  describe(`locks: ${kind}`, () => {
    before(() => fx.ready(kind));

    test('shared locks coexist and release removes their objects', async () => {
      const d = await fx.open(kind);
      const a = await acquireLock(d, { kind: 'shared', purpose: 'backup', cluster: 'main' });
      const b = await acquireLock(d, { kind: 'shared', purpose: 'wal push', cluster: 'main' });
      assert.notEqual(a.id, b.id);
      assert.deepEqual((await keys(d)).sort(), [SHARED_PREFIX + a.id, SHARED_PREFIX + b.id].sort());
      const listed = await listLocks(d);
      assert.deepEqual(listed.map((l) => l.purpose).sort(), ['backup', 'wal push']);
      const mine = listed.find((l) => l.id === a.id);
      assert.equal(mine?.pid, process.pid);
      assert.equal(mine?.host, hostname());
      assert.equal(mine?.cluster, 'main');
      assert.equal(mine?.stale, false);
      await a.release();
      await a.release();
      await b.release();
      assert.deepEqual(await keys(d), []);
    });

    test('the exclusive lock blocks shared ones, naming the holder', async () => {
      const d = await fx.open(kind);
      const gc = await acquireLock(d, { kind: 'exclusive', purpose: 'gc' });
      await assert.rejects(acquireLock(d, { kind: 'shared', purpose: 'backup', cluster: 'main' }), (e: unknown) => {
        const err = lockedError(e);
        assert.match(err.message, /repository is locked by gc \(pid \d+ on host /);
        assert.ok(err.message.includes(`pid ${process.pid} on host ${hostname()}`));
        assert.ok(err.message.includes(gc.id));
        assert.match(err.hint ?? '', /wait/);
        return true;
      });
      assert.deepEqual(await keys(d), [EXCLUSIVE_KEY], 'the refused shared lock left nothing behind');
      await assert.rejects(acquireLock(d, { kind: 'exclusive', purpose: 'gc' }), (e: unknown) => {
        assert.match(lockedError(e).message, /locked by gc/);
        return true;
      });
      await gc.release();
      const s = await acquireLock(d, { kind: 'shared', purpose: 'backup' });
      await s.release();
      assert.deepEqual(await keys(d), []);
    });

    test('a shared lock blocks the exclusive one, naming the holder', async () => {
      const d = await fx.open(kind);
      const backup = await acquireLock(d, { kind: 'shared', purpose: 'backup', cluster: 'main' });
      await assert.rejects(acquireLock(d, { kind: 'exclusive', purpose: 'gc' }), (e: unknown) => {
        const err = lockedError(e);
        assert.match(err.message, /locked by backup of cluster main \(pid \d+ on host .*; gc needs it to itself/);
        return true;
      });
      assert.deepEqual(await keys(d), [SHARED_PREFIX + backup.id], 'the refused exclusive lock was removed');
      await backup.release();
      const gc = await acquireLock(d, { kind: 'exclusive', purpose: 'gc' });
      await gc.release();
    });

    test('concurrent exclusive attempts: exactly one gets the lock', async () => {
      const d = await fx.open(kind);
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => acquireLock(d, { kind: 'exclusive', purpose: 'gc' })));
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') lockedError(r.reason);
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
      assert.deepEqual(await keys(d), []);
    });

    test('a lock of a dead process is reported stale, with the command to remove it', async () => {
      const d = await fx.open(kind);
      const dead = fakeLock({ pid: deadPid(), purpose: 'gc' });
      await d.put(EXCLUSIVE_KEY, Buffer.from(JSON.stringify(dead)));
      await assert.rejects(acquireLock(d, { kind: 'shared', purpose: 'backup' }), (e: unknown) => {
        const err = lockedError(e);
        assert.match(err.message, /looks stale: process \d+ is no longer running/);
        assert.ok(err.message.includes(`pid ${dead.pid}`));
        assert.ok((err.hint ?? '').includes(`pgkeep repo unlock ${dead.id}`));
        return true;
      });
      // Never stolen silently: it is still there.
      assert.deepEqual(await keys(d), [EXCLUSIVE_KEY]);
      const [status] = await listLocks(d);
      assert.equal(status!.stale, true);
      const removed = await breakLock(d, dead.id);
      assert.equal(removed.pid, dead.pid);
      assert.deepEqual(await keys(d), []);
      const s = await acquireLock(d, { kind: 'shared', purpose: 'backup' });
      await s.release();
    });

    test('a lock without heartbeat is stale; a live lock needs --force to break', async () => {
      const d = await fx.open(kind);
      const old = new Date(Date.now() - 60 * 60_000).toISOString();
      const silent = fakeLock({
        id: 'aaaa0000aaaa0000',
        kind: 'shared',
        purpose: 'dump',
        host: 'elsewhere',
        pid: 1,
        startedAt: old,
        heartbeatAt: old,
      });
      await d.put(SHARED_PREFIX + silent.id, Buffer.from(JSON.stringify(silent)));
      await assert.rejects(acquireLock(d, { kind: 'exclusive', purpose: 'gc' }), (e: unknown) => {
        const err = lockedError(e);
        assert.match(err.message, /locked by dump \(pid 1 on host elsewhere.*looks stale: no heartbeat since/);
        assert.ok((err.hint ?? '').includes('pgkeep repo unlock aaaa0000aaaa0000'));
        return true;
      });
      const live = await acquireLock(d, { kind: 'shared', purpose: 'backup', heartbeatMs: 100 });
      assert.equal((await oldestSharedLockStart(d))?.toISOString(), old);
      await assert.rejects(breakLock(d, live.id), (e: unknown) => {
        assert.match(lockedError(e).message, /looks alive/);
        return true;
      });
      await breakLock(d, silent.id);
      assert.equal((await oldestSharedLockStart(d))?.toISOString(), live.info.startedAt);
      await breakLock(d, live.id, { force: true });
      await until('the holder to notice', () => live.lost.aborted);
      await live.release();
      assert.equal(await oldestSharedLockStart(d), undefined);
      await assert.rejects(breakLock(d, 'nope'), (e: unknown) => isPgkeepError(e) && e.code === 'NOT_FOUND');
    });

    test('the heartbeat rewrites heartbeatAt while the lock is held', async () => {
      const d = await fx.open(kind);
      const h = await acquireLock(d, { kind: 'exclusive', purpose: 'gc', heartbeatMs: 100 });
      const first = JSON.parse((await d.get(EXCLUSIVE_KEY)).toString()) as LockInfo;
      await until('a heartbeat', async () => {
        const now = JSON.parse((await d.get(EXCLUSIVE_KEY)).toString()) as LockInfo;
        return now.heartbeatAt > first.heartbeatAt;
      });
      const now = JSON.parse((await d.get(EXCLUSIVE_KEY)).toString()) as LockInfo;
      assert.equal(now.id, h.id);
      assert.equal(now.startedAt, first.startedAt);
      await h.release();
      assert.equal(await d.stat(EXCLUSIVE_KEY), undefined);
      assert.equal(h.lost.aborted, false);
    });

    test('release never removes a lock that someone else now holds', async () => {
      const d = await fx.open(kind);
      const h = await acquireLock(d, { kind: 'exclusive', purpose: 'gc', heartbeatMs: 60_000 });
      await breakLock(d, h.id, { force: true });
      const other = await acquireLock(d, { kind: 'exclusive', purpose: 'gc' });
      await h.release();
      const still = JSON.parse((await d.get(EXCLUSIVE_KEY)).toString()) as LockInfo;
      assert.equal(still.id, other.id);
      await other.release();
    });
  });
}

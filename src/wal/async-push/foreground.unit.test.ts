/**
 * The foreground of an asynchronous `wal push`, on real files (no server): which way each
 * case goes, and that nothing but an acknowledgement or a push of its own returns success.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import { serverOsUser } from '../../pg/server-user.js';
import { pushAsync, type AsyncPushOptions } from './foreground.js';
import { pushSpoolDir, writeAck } from './acks.js';
import { writePushStatus } from './status.js';

const SEG = '000000010000000000000007';

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-asyncpush-fg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pgWal = join(dir, 'pg_wal');
  mkdirSync(join(pgWal, 'archive_status'), { recursive: true });
  writeFileSync(join(pgWal, SEG), 'x');
  const pushed: string[] = [];
  const opts: AsyncPushOptions = {
    path: 'pg_wal/' + SEG,
    cwd: dir,
    cluster: 'main',
    repoPath: join(dir, 'repo'),
    waitMs: 20_000,
    stallMs: 10_000,
    pusherArgv: () => ['-e', '0'], // a pusher that exits at once without storing anything
    pushNow: async () => {
      pushed.push(SEG);
    },
  };
  return { dir, pgWal, pushed, opts, spool: pushSpoolDir(join(pgWal, 'pgkeep-spool'), 'main', join(dir, 'repo')) };
}

test('async push foreground: an acknowledged file returns at once; a file the archiver did not queue is pushed here', async (t) => {
  const s = setup(t);
  assert.equal((await pushAsync(s.opts)).via, 'sync', 'no .ready: a manual push');
  assert.deepEqual(s.pushed, [SEG]);
  await writeAck(s.spool, { file: SEG, key: 'k', bytes: 1, at: new Date().toISOString() });
  writeFileSync(join(s.pgWal, 'archive_status', `${SEG}.ready`), '');
  assert.equal((await pushAsync(s.opts)).via, 'acknowledged');
  assert.equal(s.pushed.length, 1, 'no second push');
});

test("async push foreground: after the pusher failed on this file, the push tries it here: its own error, or 0 when the trouble was the pusher's", async (t) => {
  const s = setup(t);
  writeFileSync(join(s.pgWal, 'archive_status', `${SEG}.ready`), '');
  mkdirSync(s.spool, { recursive: true });
  const at = new Date().toISOString();
  const error = { file: SEG, code: 'DATA_INTEGRITY', message: 'page header damaged', at };
  await writePushStatus(s.spool, {
    version: 1,
    pid: 1,
    state: 'running',
    heartbeatAt: at,
    startedAt: at,
    queue: { segments: 1, oldest: SEG },
    alert: null,
    lastSuccess: null,
    lastError: error,
    failing: [error],
    pushed: 0,
  });
  // The push here fails too: its error, nothing acknowledged.
  const failing = {
    ...s.opts,
    pushNow: async () => {
      throw new PgkeepError('DATA_INTEGRITY', `${SEG} is not archived: page header damaged`);
    },
  };
  await assert.rejects(
    pushAsync(failing),
    (e: unknown) => e instanceof PgkeepError && e.code === 'DATA_INTEGRITY' && /page header damaged/.test(e.message),
  );
  assert.deepEqual(s.pushed, [], 'not pushed, not acknowledged');
  // The pusher's trouble was its own (say its spool's disk is full): the push here stores it.
  const r = await pushAsync(s.opts);
  assert.equal(r.via, 'sync');
  assert.match(r.reason ?? '', /pusher failed/);
  assert.deepEqual(s.pushed, [SEG]);
});

test('async push foreground: a pusher that does not start makes the push store the file itself', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.pgWal, 'archive_status', `${SEG}.ready`), '');
  const r = await pushAsync(s.opts);
  assert.equal(r.via, 'sync');
  assert.match(r.reason ?? '', /does not start/);
  assert.deepEqual(s.pushed, [SEG]);
});

test('async push foreground: a spool that cannot be created: pushed here, with a warning naming [archive] spool_path', async (t) => {
  const s = setup(t);
  writeFileSync(join(s.pgWal, 'archive_status', `${SEG}.ready`), '');
  const notADir = join(s.dir, 'file');
  writeFileSync(notADir, '');
  const r = await pushAsync({ ...s.opts, spoolPath: join(notADir, 'spool') });
  assert.equal(r.via, 'sync');
  assert.match(r.warning ?? '', /spool_path/);
  assert.deepEqual(s.pushed, [SEG]);
});

test("async push foreground: root pushing into a pg_wal of the server's OS user pushes itself and leaves the spool alone", async (t) => {
  const user = serverOsUser();
  if (!user) return t.skip('needs root');
  const s = setup(t);
  writeFileSync(join(s.pgWal, 'archive_status', `${SEG}.ready`), '');
  chownSync(s.pgWal, user.uid, user.gid);
  const r = await pushAsync(s.opts);
  assert.equal(r.via, 'sync');
  assert.match(r.reason ?? '', /root/);
  assert.equal(existsSync(join(s.pgWal, 'pgkeep-spool')), false, 'no root-owned spool in pg_wal');
});

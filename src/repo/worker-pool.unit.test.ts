/**
 * Closing the blob worker pool while tasks are in flight (a restore stream destroyed with its
 * read-ahead still decoding, then the repository closed): every task settles, and close()
 * itself settles before the process may end. Before the fix, a reply landing during close
 * unreferenced the terminating workers, the event loop emptied, and node exited 0 with the
 * command's promise still pending (issue 9, item 6).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPool } from './worker-pool.js';
import { blobBound } from './blob.js';

function encodeTask(seed: number) {
  const data = new Uint8Array(new ArrayBuffer(1 << 20));
  for (let k = 0; k < data.length; k += 7) data[k] = (k * 31 + seed) & 255;
  const out = new Uint8Array(new ArrayBuffer(blobBound(data.length)));
  return { task: { op: 'encode' as const, data, out, codec: { name: 'zstd' as const, level: 3 } }, transfer: [data.buffer, out.buffer] };
}

test('tasks in flight when the pool closes are rejected, never left pending', async () => {
  const pool = new WorkerPool(2, undefined);
  const tasks = [0, 1, 2, 3, 4, 5].map((i) => {
    const t = encodeTask(i);
    return pool.run(t.task, t.transfer).then(
      () => 'done',
      () => 'rejected',
    );
  });
  await pool.close();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise((res) => (timer = setTimeout(() => res('pending'), 2000)));
  const outcomes = await Promise.all(tasks.map((t) => Promise.race([t, bound])));
  clearTimeout(timer);
  assert.ok(!outcomes.includes('pending'), `outcomes: ${outcomes.join(', ')}`);
  assert.ok(outcomes.includes('rejected'), 'at least the tasks still queued are rejected');
  await assert.rejects(pool.run(encodeTask(9).task), /closed/);
});

test('a reply landing while the pool closes does not let the process end before close() settles', async () => {
  const pool = new WorkerPool(1, undefined);
  const t = encodeTask(1);
  const task = pool.run(t.task, t.transfer).then(
    () => 'done',
    () => 'rejected',
  );
  const slot = (pool as any).slots[0] as { worker: import('node:worker_threads').Worker; pending: Map<number, unknown> };
  const [id] = [...slot.pending.keys()];
  const closing = pool.close();
  // The worker's answer, arriving after close() began (as when a worker finishes just then); in
  // a real run this is a race, here it is made to happen every time.
  slot.worker.emit('message', { id, blob: new Uint8Array(0), size: 0 });
  await closing;
  assert.ok(['done', 'rejected'].includes(await task));
});

test('warm() boots the workers before any task, and a warmed idle pool does not keep node alive', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    import { once } from 'node:events';
    import { WorkerPool } from ${JSON.stringify(new URL('./worker-pool.js', import.meta.url).href)};
    const pool = new WorkerPool(2, undefined);
    pool.warm();
    const alive = setInterval(() => {}, 1000); // idle workers are unreferenced: keep node up while waiting
    await Promise.all(pool.slots.map((s) => once(s.worker, 'online')));
    clearInterval(alive);
    console.log('online ' + pool.slots.length);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.signal, null, 'node ended by itself (killed after 20 s otherwise)');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'online 2', 'both workers were up before any task was given');
});

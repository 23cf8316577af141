/**
 * compress-in-order.ts on a real repository: the second push starts only once the first one's
 * object is encoded (its putObject called), before that write is done; a push that fails before
 * writing anything lets the next one start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PosixDriver } from '../../repo/storage/posix/index.js';
import { Repository } from '../../repo/index.js';
import { compressInOrder } from './compress-in-order.js';

test('compress in order: the next push starts when the previous one is encoded, not before and not after its write', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-in-order-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const repo = await Repository.init(new PosixDriver(join(dir, 'repo')), { kdfCost: { N: 1024, r: 8, p: 1 }, jobs: 1 });
  const inOrder = compressInOrder(repo);
  const events: string[] = [];
  let goOn = () => {};
  const gate = new Promise<void>((r) => {
    goOn = r;
  });
  const first = inOrder(async (r) => {
    events.push('first: checks');
    await gate; // reading and checking take a while
    const put = r.putObject('wal/a', Buffer.alloc(1 << 20, 1));
    events.push('first: encoded');
    await put;
    events.push('first: written');
  });
  const second = inOrder(async (r) => {
    events.push('second: starts');
    await r.putObject('wal/b', Buffer.alloc(1 << 20, 2));
  });
  const failing = inOrder(async () => {
    events.push('third: fails');
    throw new Error('damaged');
  });
  const fourth = inOrder(async () => {
    events.push('fourth: starts');
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(events, ['first: checks'], 'nothing else starts while the first one is not encoded');
  goOn();
  await Promise.all([first, second, assert.rejects(failing, /damaged/), fourth]);
  assert.deepEqual(
    events.slice(0, 3),
    ['first: checks', 'first: encoded', 'second: starts'],
    'the second starts before the first is written',
  );
  assert.ok(events.indexOf('fourth: starts') > events.indexOf('third: fails'), 'a failed push lets the next one start');
  assert.ok((await repo.getObject('wal/a')).equals(Buffer.alloc(1 << 20, 1)));
  assert.ok((await repo.getObject('wal/b')).equals(Buffer.alloc(1 << 20, 2)));
});

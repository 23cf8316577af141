/**
 * restore waits for the prefetcher it started only while that prefetcher lives: one that exits at
 * once (it cannot read the repository, say) must not hold the restore for the whole bound.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awaitEarlyPrefetch } from './early-prefetch.js';

test('the wait for the early prefetcher ends when it exits, and at once when it is ready', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-early-prefetch-test-'));
  try {
    const dead = spawn(process.execPath, ['-e', 'process.exit(3)'], { stdio: 'ignore' });
    const t0 = Date.now();
    assert.equal(await awaitEarlyPrefetch(dir, dead, 20_000), false);
    assert.ok(Date.now() - t0 < 10_000, `waited ${Date.now() - t0} ms for a prefetcher that had exited`);

    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      const t1 = Date.now();
      assert.equal(await awaitEarlyPrefetch(dir, alive, 300), false, 'not ready: the bound');
      assert.ok(Date.now() - t1 >= 300);
      writeFileSync(join(dir, '.ready'), '');
      assert.equal(await awaitEarlyPrefetch(dir, alive, 20_000), true);
    } finally {
      alive.kill('SIGKILL');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

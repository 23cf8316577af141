import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PosixDriver } from './posix-driver.js';

// As root, objects written into a repository directory owned by another user (postgres, whose
// archive_command writes there too) must belong to that user.
test('root writes into a repository owned by another user as that user', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
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

/**
 * A full TMPDIR under the temporary file list of a large snapshot fails the snapshot with a
 * CONFLICT naming the directory, publishes nothing and leaves no pack behind. A 64 KiB tmpfs
 * stands in for the full disk (root only: skipped otherwise).
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { faultTest } from '../test-support/faults.js';
import { smallDisks } from '../test-support/small-disk.js';
import { PgkeepError } from '../errors.js';
import { newPosixRepo, randomData } from './test-utils.js';

const root = process.getuid?.() === 0;
const disks = smallDisks('pgkeep-spill-full-');
after(() => disks.release());

faultTest('TMPDIR full under the temporary file list', async (t) => {
  if (!root) return t.skip('needs root to mount a small tmpfs');
  const small = disks.mount('tmp', '64k');
  const repoDir = join(small, '..', 'repo');
  const repo = await newPosixRepo(repoDir, { chunkSize: 4096, compression: 'none' });
  const before = process.env.TMPDIR;
  process.env.TMPDIR = small;
  try {
    const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical', spillBudgetChunks: 64 });
    let failure: unknown;
    try {
      // 32 files of 64 chunks with random content: ~100 KB of deflated records, more than 64 KiB
      for (let i = 0; i < 32; i++)
        await w.addFile({ path: `f${String(i).padStart(2, '0')}`, type: 'file', mode: 0o600, mtimeMs: 1 }, randomData(64 * 4096));
      await w.commit({});
    } catch (e) {
      failure = e;
      await w.abort();
    }
    assert.ok(failure instanceof PgkeepError, `expected a PgkeepError, got ${String(failure)}`);
    assert.equal(failure.code, 'CONFLICT');
    assert.match(failure.message, /temporary file list/);
    assert.match(failure.message, new RegExp(small));
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
  assert.deepEqual((await repo.readSnapshots('main')).manifests, [], 'nothing published');
  const packDir = join(repoDir, 'packs');
  const packs = (existsSync(packDir) ? readdirSync(packDir, { recursive: true }) : []).filter((n) => /[0-9a-f]{32}$/.test(String(n)));
  assert.deepEqual(packs, [], 'the packs of the failed snapshot are deleted');
  assert.deepEqual(readdirSync(small), [], 'no temporary file is left');
  await repo.close();
});

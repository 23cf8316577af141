/**
 * gc and repo check hold nothing per blob (issue 14): on a repository of 100k distinct blobs,
 * `repo check` (with and without --read-data), `repo gc --dry-run` and `repo gc` each run in a
 * child process whose V8 heap is capped at 40 MiB. Before the fix every referenced blob was an
 * object and a Set in memory (~500 bytes each on the heap): check ran out of heap there.
 * bench/memory/gc.mjs runs the same at 16.8M blobs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { newPosixRepo, tempDir } from './test-utils.js';
import { runBlobStep } from '../test-support/many-blobs.js';

const BLOBS = 100_000;
const HEAP = ['--max-old-space-size=40'];

let dir: { path: string; remove(): Promise<void> };
before(async () => {
  dir = await tempDir('pgkeep-gc-memory-');
});
after(async () => {
  await dir.remove();
});

test('gc and repo check of 100k distinct blobs run in a 40 MiB heap', { timeout: 300_000 }, async () => {
  const repoDir = join(dir.path, 'repo');
  const repo = await newPosixRepo(repoDir, { chunkSize: 4096, packSize: 1024 * 1024 });
  await repo.close();
  const made = await runBlobStep('make', repoDir, [BLOBS]);
  assert.equal(made.blobs, BLOBS);
  const check = await runBlobStep('check', repoDir, [], HEAP);
  assert.equal(check.ok, true);
  assert.ok(check.blobs! > BLOBS, `every chunk and the file lists referenced: ${check.blobs}`);
  const dry = await runBlobStep('gc-dry', repoDir, [], HEAP);
  assert.equal(dry.deletedPacks, 0, 'every pack holds a referenced blob');
  const gc = await runBlobStep('gc', repoDir, [], HEAP);
  assert.equal(gc.deletedPacks, 0);
  const data = await runBlobStep('check-data', repoDir, [], HEAP);
  assert.equal(data.ok, true);
  assert.equal(data.damaged, 0);
  assert.ok(data.blobsRead! >= BLOBS, 'every blob read and verified');
});

/**
 * Writing a snapshot of many distinct chunks holds nothing per chunk beyond bounded buffers
 * (issue 14): 200k distinct 4 KiB chunks (each a ~250-byte blob: ~130k blobs a pack, the most
 * index entries a pack can have) are backed up in a child process whose V8 heap is capped at
 * 64 MiB, then every blob is read back and verified. Before, the open pack's index was an object
 * with a hex hash per blob (~200 bytes each plus garbage): the writer ran out of heap below
 * ~96 MiB. bench/memory/run.mjs --distinct measures the peak RSS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { newPosixRepo, tempDir } from './test-utils.js';
import { runBlobStep } from '../test-support/many-blobs.js';

const CHUNKS = 200_000;

test('a backup of 200k distinct 4 KiB chunks runs in a 64 MiB heap', { timeout: 300_000 }, async () => {
  const dir = await tempDir('pgkeep-writer-memory-');
  try {
    const repoDir = join(dir.path, 'repo');
    await (await newPosixRepo(repoDir, { chunkSize: 4096 })).close();
    const made = await runBlobStep('make', repoDir, [CHUNKS], ['--max-old-space-size=64']);
    assert.equal(made.blobs, CHUNKS, 'every chunk stored as a new blob');
    const data = await runBlobStep('check-data', repoDir);
    assert.deepEqual([data.ok, data.damaged], [true, 0]);
    assert.ok(data.blobsRead! >= CHUNKS, `every blob read back and verified: ${data.blobsRead}`);
  } finally {
    await dir.remove();
  }
});

/**
 * Memory of a backup does not grow with the cluster's size (issue 14): a sparse data directory of
 * 1 GiB backed up into a repository with 4 KiB chunks makes 256k chunk records (what 32 GiB
 * costs with the default 128 KiB chunks; before the fix, ~190 MiB of records held at once). The backup, an incremental one after it (every file
 * looked up in the previous snapshot) and a read-back run in child processes whose peak RSS is
 * bounded; the data read back is compared with the source. bench/memory runs the same at 2 TiB.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir, newPosixRepo } from '../repo/test-utils.js';
import { makeSparseDataDir, runSparseStep } from '../test-support/sparse-backup.js';

const GIB = 1024 ** 3;
const CHUNK = 4096;
const TOTAL = GIB;
/** Peak RSS bound of each step: about 100 MiB is the process with its two blob workers and a pack arena. */
const BOUND_MIB = 240;

let dir: { path: string; remove(): Promise<void> };
before(async () => {
  dir = await tempDir('pgkeep-memory-');
});
after(async () => {
  await dir.remove();
});

test('backing up 256k chunks of a sparse data directory stays in bounded memory, and reads back identical', {
  timeout: 600_000,
}, async () => {
  const data = join(dir.path, 'data');
  const repoDir = join(dir.path, 'repo');
  const segments = makeSparseDataDir(data, TOTAL, 16 * 1024 * 1024);
  const repo = await newPosixRepo(repoDir, { chunkSize: CHUNK });
  await repo.close();

  const full = await runSparseStep('backup', repoDir, data);
  assert.equal(full.logicalBytes, TOTAL + 3, 'PG_VERSION and every segment');
  assert.equal(full.files, segments + 3, 'base, base/5, PG_VERSION and the segments');
  assert.ok(full.peakRssMiB < BOUND_MIB, `full backup: peak RSS ${full.peakRssMiB} MiB, bound ${BOUND_MIB}`);

  const incremental = await runSparseStep('backup', repoDir, data);
  assert.equal(incremental.newChunks, 0, 'nothing changed: every chunk is the previous snapshot’s');
  assert.equal(incremental.reusedChunks, TOTAL / CHUNK + 1);
  assert.ok(incremental.peakRssMiB < BOUND_MIB, `incremental backup: peak RSS ${incremental.peakRssMiB} MiB, bound ${BOUND_MIB}`);

  const verify = await runSparseStep('verify', repoDir, data);
  assert.equal(verify.compared, TOTAL + 3, 'every byte read back and equal to the source');
  assert.ok(verify.peakRssMiB < BOUND_MIB, `read back: peak RSS ${verify.peakRssMiB} MiB, bound ${BOUND_MIB}`);
});

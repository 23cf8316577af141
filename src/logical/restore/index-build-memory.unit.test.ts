import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INDEX_BUILD_MEMORY_MAX, indexBuildMemory, indexBuildOptions } from './index-build-memory.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

test('512 MB per session on a big machine; an eighth of a small one shared by the jobs', () => {
  assert.equal(indexBuildMemory(2, 24 * GiB), INDEX_BUILD_MEMORY_MAX);
  assert.equal(indexBuildMemory(4, 4 * GiB), 128 * MiB);
  assert.equal(indexBuildMemory(3, 2 * GiB), 85 * MiB);
  assert.equal(indexBuildMemory(0, 1 * GiB), 128 * MiB, 'jobs below 1 count as 1');
});

test("the user's own -c maintenance_work_mem comes after ours, so it wins", () => {
  assert.equal(indexBuildOptions(512 * MiB), '-c maintenance_work_mem=512MB');
  assert.equal(
    indexBuildOptions(256 * MiB, '-c maintenance_work_mem=2GB -c work_mem=8MB'),
    '-c maintenance_work_mem=256MB -c maintenance_work_mem=2GB -c work_mem=8MB',
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordSpill } from './record-spill.js';
import type { FileRecord } from './manifest.js';

const CHUNK = 4096;

function record(path: string, chunks: number): FileRecord {
  return {
    path,
    type: 'file',
    mode: 0o600,
    mtimeMs: 1,
    size: chunks * CHUNK,
    chunks: Array.from({ length: chunks }, (_, i) => ({
      offset: i * CHUNK,
      size: CHUNK,
      sha256: `${path}-${i}`.padEnd(64, '0'),
      pack: `pack${i % 3}`.padEnd(32, '0'),
      packOffset: 8 + i * 100,
      length: 100,
    })),
  };
}

test('records added in any order come back sorted, through temporary runs past the budget', async () => {
  const paths = Array.from({ length: 300 }, (_, i) => `base/5/${(i * 7919) % 1000}`);
  const spill = new RecordSpill(CHUNK, 50);
  for (const [i, p] of paths.entries()) await spill.add(record(p, i % 9));
  assert.ok(spill.spilledRuns >= 5, `expected several runs, got ${spill.spilledRuns}`);
  const out: FileRecord[] = [];
  for await (const r of spill.sorted()) out.push(r);
  await spill.close();
  const sorted = [...paths].sort();
  assert.deepEqual(
    out.map((r) => r.path),
    sorted,
  );
  for (const r of out) {
    const i = paths.indexOf(r.path);
    assert.deepEqual(r, record(r.path, i % 9), `record ${r.path} comes back whole`);
  }
});

test('within the budget nothing is written to disk', async () => {
  const spill = new RecordSpill(CHUNK, 1000);
  await spill.add(record('b', 2));
  await spill.add(record('a', 2));
  const out: string[] = [];
  for await (const r of spill.sorted()) out.push(r.path);
  await spill.close();
  assert.deepEqual(out, ['a', 'b']);
  assert.equal(spill.spilledRuns, 0);
});

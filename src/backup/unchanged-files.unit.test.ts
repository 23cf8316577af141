import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FileRecord } from '../repo/index.js';
import { chunkRuns } from './changed-chunks.js';
import { planFile, relationForkOf } from './unchanged-files.js';
import { firstGap, type ForkChanges, type WalChanges } from './wal-summaries.js';

const K = 1024;
const g = { chunkSize: 128 * K, blockSize: 8 * K, segmentBlocks: 1024 }; // 8 MiB segments for the test: 64 chunks
const SEG = g.segmentBlocks * g.blockSize;

function record(path: string, size: number): FileRecord {
  const chunks = Array.from({ length: Math.ceil(size / g.chunkSize) }, (_, i) => ({
    offset: i * g.chunkSize,
    size: Math.min(g.chunkSize, size - i * g.chunkSize),
    sha256: `h${i}`,
    pack: 'p',
    packOffset: i,
    length: 1,
  }));
  return { path, type: 'file', mode: 0o600, mtimeMs: 0, size, chunks };
}

function changes(forks: Record<string, ForkChanges> = {}, recreated: string[] = []): WalChanges {
  return {
    groupBlocks: 16,
    forks: new Map(Object.entries(forks)),
    recreatedDatabases: new Set(recreated),
    from: '0/1',
    to: '0/2',
    timeline: 1,
    summaries: 1,
  };
}

test('relation file paths map to tablespace, database, relfilenode, fork and segment', () => {
  assert.deepEqual(relationForkOf('base/5/16384.2'), { spc: '1663', db: '5', rel: { relfilenode: '16384', fork: 'main', segment: 2 } });
  assert.deepEqual(relationForkOf('global/1262_vm'), { spc: '1664', db: '0', rel: { relfilenode: '1262', fork: 'vm', segment: 0 } });
  assert.deepEqual(relationForkOf('pg_tblspc/16400/PG_17_202406281/5/16401_init'), {
    spc: '16400',
    db: '5',
    rel: { relfilenode: '16401', fork: 'init', segment: 0 },
  });
  for (const p of ['global/pg_control', 'pg_xact/0000', 'base/5/PG_VERSION', 'base/5/pg_filenode.map', 'postgresql.conf'])
    assert.equal(relationForkOf(p), undefined, p);
});

test('only what the summaries vouch for is skipped', () => {
  const size = 10 * g.chunkSize;
  const prev = record('base/5/16384', size);
  assert.deepEqual(planFile('base/5/16384', size, prev, changes(), g), { kind: 'reuse', previous: prev }, 'no change: reused whole');
  assert.deepEqual(planFile('pg_xact/0000', 8 * K, record('pg_xact/0000', 8 * K), changes(), g), { kind: 'read' }, 'not a relation file');
  assert.deepEqual(
    planFile('base/5/16384_fsm', size, record('base/5/16384_fsm', size), changes(), g),
    { kind: 'read' },
    'FSM is not WAL-logged',
  );
  assert.deepEqual(planFile('base/5/16384', size, undefined, changes(), g), { kind: 'read' }, 'not in the previous backup');
  assert.deepEqual(planFile('base/5/16384', size, prev, changes({}, ['1663/5']), g), { kind: 'read' }, 'database recreated');
  assert.deepEqual(planFile('base/5/16384', size + 100, prev, changes(), g), { kind: 'read' }, 'not a whole number of blocks');
  // blocks 20 and 21 (chunk 1) and 150 (chunk 9) changed
  assert.deepEqual(planFile('base/5/16384', size, prev, changes({ '1663/5/16384/0': { groups: [1, 9] } }), g), {
    kind: 'patch',
    previous: prev,
    read: [1, 9],
  });
  // another fork or relation changed: this one is not
  assert.equal(
    planFile('base/5/16384', size, prev, changes({ '1663/5/16384/2': { groups: [0] }, '1663/6/16384/0': { groups: [0] } }), g).kind,
    'reuse',
  );
  // truncated to block 40 (in chunk 2), then grown again: chunks from the limit on are read
  assert.deepEqual(planFile('base/5/16384', size, prev, changes({ '1663/5/16384/0': { groups: [], limitBlock: 40 } }), g), {
    kind: 'patch',
    previous: prev,
    read: [2, 3, 4, 5, 6, 7, 8, 9],
  });
  assert.deepEqual(
    planFile('base/5/16384', size, prev, changes({ '1663/5/16384/0': { groups: [], limitBlock: 0 } }), g),
    { kind: 'read' },
    'created or dropped',
  );
  // grown by half a chunk: the last, partial chunk and the new one are read
  const grown = planFile('base/5/16384', size + 64 * K, record('base/5/16384', size - 64 * K), changes(), g);
  assert.deepEqual(grown.kind === 'patch' && grown.read, [9, 10]);
  // nearly everything changed: read whole
  assert.deepEqual(planFile('base/5/16384', size, prev, changes({ '1663/5/16384/0': { groups: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] } }), g), {
    kind: 'read',
  });
});

test('segments: the blocks of segment N start at N * blocks per segment', () => {
  const prev = record('base/5/16384.1', SEG);
  // relation block 1024 + 40 is block 40 of segment 1 (chunk 2); block 40 of the relation is in segment 0
  const plan = planFile('base/5/16384.1', SEG, prev, changes({ '1663/5/16384/0': { groups: [2, ((1024 + 40) / 16) | 0] } }), g);
  assert.deepEqual(plan.kind === 'patch' && plan.read, [2]);
  assert.equal(
    planFile('base/5/16384.1', SEG, prev, changes({ '1663/5/16384/0': { groups: [], limitBlock: 1024 } }), g).kind,
    'read',
    'truncated at the segment start',
  );
  assert.equal(
    planFile('base/5/16384.1', SEG, prev, changes({ '1663/5/16384/0': { groups: [], limitBlock: 2048 } }), g).kind,
    'reuse',
    'truncated in a later segment',
  );
});

test('coverage of an LSN range by summaries, and runs of chunks', () => {
  const r = (start: number, end: number) => ({ start: BigInt(start), end: BigInt(end) });
  assert.equal(firstGap([r(0, 10), r(10, 20), r(20, 30)], 5n, 25n), undefined);
  assert.equal(firstGap([r(0, 12), r(10, 30)], 5n, 25n), undefined, 'overlapping summaries');
  assert.deepEqual(firstGap([r(0, 10), r(12, 30)], 5n, 25n), { from: 10n, to: 12n });
  assert.deepEqual(firstGap([r(6, 30)], 5n, 25n), { from: 5n, to: 6n }, 'starts after the previous backup');
  assert.deepEqual(firstGap([r(0, 20)], 5n, 25n), { from: 20n, to: 25n }, 'not up to this backup');
  assert.deepEqual(firstGap([], 5n, 25n), { from: 5n, to: 25n });
  assert.equal(firstGap([], 5n, 5n), undefined, 'empty range');
  assert.deepEqual(chunkRuns([1, 2, 3, 7, 9, 10], 100, 1050), [
    { offset: 100, length: 300 },
    { offset: 700, length: 100 },
    { offset: 900, length: 150 },
  ]);
});

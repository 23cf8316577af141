import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContentReader } from './chunker.js';
import type { SnapshotManifest } from './manifest.js';
import type { Repository } from './repository.js';
import { newPosixRepo, randomData, readAll, tempDir } from './test-utils.js';

const CHUNK = 64 * 1024;
const PAGE = 8192;
let dir: { path: string; remove(): Promise<void> };
let n = 0;

before(async () => {
  dir = await tempDir('pgkeep-file-range-');
});
after(async () => {
  await dir.remove();
});

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Store the file at `abs` as a range [start, end) read by the blob workers; `shrinkTo` truncates
 * the file after it is opened (the workers then find less than `end`). readInto must not be used.
 */
async function storeRange(repo: Repository, abs: string, end: number, previous?: SnapshotManifest, shrinkTo?: number) {
  const fh = await open(abs, 'r');
  try {
    if (shrinkTo !== undefined) await truncate(abs, shrinkTo);
    const reads: [number, number][] = [];
    const content: ContentReader = {
      readInto: () => Promise.reject(new Error('readInto was called: the workers did not read the file range')),
      file: { fd: fh.fd, start: 0, end, onRead: (got, wanted) => reads.push([got, wanted]) },
    };
    const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical', jobs: 2, ...(previous ? { previous } : {}) });
    const record = await w.addFile({ path: 'base/5/16384', type: 'file', mode: 0o600, mtimeMs: 0 }, content);
    return { manifest: await w.commit({}), record, reads };
  } finally {
    await fh.close();
  }
}

async function readBack(repo: Repository, id: string): Promise<Buffer> {
  return readAll(repo.readFile(await repo.readSnapshot('main', id), 'base/5/16384'));
}

test('a file range is read by the blob workers: every chunk hashed and stored as on disk, read back identical', async () => {
  const repo = await newPosixRepo(join(dir.path, `r${n++}`), { compression: 'zstd:2', chunkSize: CHUNK });
  try {
    const abs = join(dir.path, `f${n++}`);
    const data = randomData(40 * CHUNK + 1234); // several batches, a short last chunk
    await writeFile(abs, data);
    const { manifest, record, reads } = await storeRange(repo, abs, data.length);
    assert.equal(record.size, data.length);
    assert.deepEqual(
      record.chunks.map((c) => c.sha256),
      Array.from({ length: 41 }, (_, i) => sha(data.subarray(i * CHUNK, (i + 1) * CHUNK))),
    );
    assert.equal(
      reads.reduce((s, [got]) => s + got, 0),
      data.length,
      'onRead heard every byte',
    );
    assert.ok(
      reads.every(([got, wanted]) => got === wanted),
      'no short read',
    );
    assert.ok((await readBack(repo, manifest.id)).equals(data));
  } finally {
    await repo.close();
  }
});

test('a file that shrinks under the workers ends where it was cut: the cut chunk is neither reused nor a delta on the longer one', async () => {
  const repo = await newPosixRepo(join(dir.path, `r${n++}`), { compression: 'none', chunkSize: CHUNK });
  try {
    const abs = join(dir.path, `f${n++}`);
    const v1 = randomData(40 * CHUNK);
    await writeFile(abs, v1);
    const first = await storeRange(repo, abs, v1.length);
    // one page changed in the chunk that will be cut, so it could have been stored as a delta on v1's
    const v2 = Buffer.from(v1);
    const cut = 25 * CHUNK + 3 * PAGE + 100;
    v2[25 * CHUNK + PAGE] = (v2[25 * CHUNK + PAGE]! + 1) & 255;
    await writeFile(abs, v2);
    const second = await storeRange(repo, abs, v2.length, first.manifest, cut);
    const kept = v2.subarray(0, cut);
    assert.equal(second.record.size, cut, 'the record ends where the file was cut');
    assert.equal(second.record.chunks.length, 26);
    assert.equal(second.record.chunks[25]!.size, cut - 25 * CHUNK);
    assert.equal(second.record.chunks[25]!.base, undefined, 'the cut chunk is stored whole');
    assert.equal(second.record.chunks[25]!.sha256, sha(kept.subarray(25 * CHUNK)));
    assert.equal(second.manifest.stats.reusedChunks, 25, 'the chunks before the cut are the first snapshot’s');
    assert.deepEqual(
      second.reads.filter(([got, wanted]) => got < wanted).length,
      1,
      'one short read ended the content; nothing after it was reported',
    );
    assert.equal(
      second.reads.reduce((s, [got]) => s + got, 0),
      cut,
    );
    assert.ok((await readBack(repo, second.manifest.id)).equals(kept), 'the snapshot reads back as the file was when cut');
    assert.ok((await readBack(repo, first.manifest.id)).equals(v1), 'the first snapshot is untouched');
  } finally {
    await repo.close();
  }
});

test('a read error in a worker is the file’s own error (errno code kept), not a worker failure', async () => {
  const repo = await newPosixRepo(join(dir.path, `r${n++}`), { chunkSize: CHUNK });
  try {
    const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
    const fh = await open(dir.path, 'r'); // a directory: read(2) fails with EISDIR
    try {
      const content: ContentReader = {
        readInto: () => Promise.reject(new Error('readInto was called')),
        file: { fd: fh.fd, start: 0, end: CHUNK, onRead: () => undefined },
      };
      await assert.rejects(w.addFile({ path: 'x', type: 'file', mode: 0o600, mtimeMs: 0 }, content), (e: NodeJS.ErrnoException) => {
        assert.equal(e.code, 'EISDIR');
        return true;
      });
    } finally {
      await fh.close();
      await w.abort();
    }
  } finally {
    await repo.close();
  }
});

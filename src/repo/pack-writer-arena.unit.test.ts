/**
 * A pack of many small blobs is sealed in its arena: its index and footer are written after the
 * blobs without copying the pack (issue 14: a pack of ~130k blobs of ~250 bytes has a 6 MiB
 * index, which overflowed the arena's slack, so each pack was copied whole at seal: another
 * 33 MiB alive). The index is kept in binary form as blobs arrive (PackIndexBuilder), read back
 * identical to encodePackIndex's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PosixDriver } from './storage/posix/index.js';
import { PackWriter } from './pack-writer.js';
import { readPackIndex } from './pack-reader.js';
import { encodePackIndex, packKey, type PackIndexEntry } from './pack-format.js';
import { PackIndexBuilder } from './pack-index-builder.js';
import { parseCodec } from './codec.js';
import { tempDir } from './test-utils.js';

const PACK = 1024 * 1024;
const ARENA = PACK + 1024 * 1024;

class WatchedDriver extends PosixDriver {
  readonly bodies: { key: string; arena: number; size: number }[] = [];
  override put(key: string, data: Buffer | Uint8Array): Promise<void> {
    this.bodies.push({ key, arena: data.buffer.byteLength, size: data.length });
    return super.put(key, data);
  }
}

const hash = (i: number) => createHash('sha256').update(String(i)).digest('hex');

test('PackIndexBuilder writes what encodePackIndex writes, across growth and reset', () => {
  const b = new PackIndexBuilder();
  for (const n of [3, 5000, 0, 1]) {
    const entries: PackIndexEntry[] = [];
    for (let i = 0; i < n; i++) entries.push({ offset: 8 + i * 40, length: 40, rawLength: 4096, kind: i % 3, sha256: hash(i + n) });
    b.reset();
    for (const e of entries) b.add(e);
    assert.equal(b.length, n);
    assert.deepEqual(b.bytes(), encodePackIndex(entries));
  }
});

test('a pack of small blobs is sealed in its arena, not copied, and its index reads back', async () => {
  const dir = await tempDir('pgkeep-pack-arena-');
  try {
    const driver = new WatchedDriver(dir.path);
    const w = new PackWriter(driver, parseCodec('zstd:3'), undefined, PACK);
    const blob = Buffer.alloc(40, 7);
    const locators = [];
    const count = 50_000; // 2 MB of blobs with 2.4 MB of index: the index alone outgrows the arena's slack
    for (let i = 0; i < count; i++) locators.push(w.append(blob, { rawLength: 4096, kind: 1, sha256: hash(i) }));
    const located = await Promise.all(locators);
    const published = await w.finish();
    assert.ok(published.length >= 3, `several packs: ${published.length}`);
    const full = driver.bodies.slice(0, -1); // every pack but the last was sealed because it was full
    for (const b of full) assert.equal(b.arena, ARENA, `${b.key} (${b.size} bytes) was sealed in its arena, not a copy`);
    let seen = 0;
    for (const id of published) {
      const size = driver.bodies.find((b) => b.key === packKey(id))!.size;
      const { entries } = await readPackIndex(driver, undefined, id, size);
      for (const e of entries) {
        assert.equal(e.sha256, hash(seen));
        assert.deepEqual(located[seen], { pack: id, offset: e.offset, length: 40 });
        seen++;
      }
    }
    assert.equal(seen, count, 'every blob is in exactly one pack index, in order');
  } finally {
    await dir.remove();
  }
});

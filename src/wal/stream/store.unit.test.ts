/**
 * `wal stream` stores WAL with the codec `wal push` uses: [archive] compression when set, else the
 * repository's codec with zstd at level 1 (docs/wal-archiving.md, "Compression of WAL").
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initRepository } from '../../repo/index.js';
import { OBJECT_HEADER_BYTES } from '../../repo/blob.js';
import { compressSync, parseCodec } from '../../repo/codec.js';
import { walObjectName } from '../../holdings/wal-layout.js';
import { storePartial, storeWriteOnce } from './store.js';

let work: string;
let repo: Awaited<ReturnType<typeof initRepository>>;
const sysid = '7000000000000000001';
// Text-like WAL stand-in: compressible, where levels 1 and 3 differ.
const data = Buffer.from(Array.from({ length: 40_000 }, (_, i) => `row ${i} ${(i * 7919) % 1000} payload;`).join('\n'));

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-stream-store-test-'));
  repo = await initRepository({ path: join(work, 'repo') }, { compression: 'zstd:3' });
});

after(async () => {
  await repo?.close();
  rmSync(work, { recursive: true, force: true });
});

const objectSize = (cluster: string, name: string, ext: string) =>
  statSync(join(work, 'repo', 'wal', cluster, sysid, name.slice(0, 16), `${name}.${ext}`)).size;
const expected = (codec: string) => OBJECT_HEADER_BYTES + compressSync(parseCodec(codec), data).length + 32; // header, frame, SHA-256

test('a streamed segment and .partial are stored with zstd level 1 in a zstd:3 repository, or with the configured codec', async () => {
  assert.notEqual(expected('zstd:1'), expected('zstd:3'), 'the data tells the levels apart');
  const name = '000000010000000000000005';
  assert.equal(await storeWriteOnce({ repo, cluster: 'c', systemId: sysid }, name, data), 'stored');
  assert.equal(objectSize('c', name, 'zst'), expected('zstd:1'));
  await storePartial({ repo, cluster: 'c', systemId: sysid }, '000000010000000000000006', data);
  assert.equal(objectSize('c', '000000010000000000000006.partial', 'zst'), expected('zstd:1'));
  assert.equal(await storeWriteOnce({ repo, cluster: 'd', systemId: sysid, codec: parseCodec('zstd:5') }, name, data), 'stored');
  assert.equal(objectSize('d', name, 'zst'), expected('zstd:5'));
  for (const cluster of ['c', 'd']) assert.ok((await repo.getObject(walObjectName(cluster, sysid, name))).equals(data), 'read back');
});

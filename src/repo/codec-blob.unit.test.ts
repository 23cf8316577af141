import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CODEC_IDS, parseCodec, formatCodec, type CodecName } from './codec.js';
import { decodeBlob, decodeObject, encodeBlob, encodeObject } from './blob.js';
import { randomKey } from './cipher.js';
import { unwrapMasterKey, wrapMasterKey } from './key-wrap.js';
import { decodeFooter, decodePackIndex, encodeFooter, encodePackIndex, packIdFromKey, packKey } from './pack-format.js';
import { PgkeepError } from '../errors.js';
import { compressibleData, randomData, TEST_KDF } from './test-utils.js';

const CODECS = ['none', 'gzip', 'gzip:9', 'lz4', 'zstd', 'zstd:1', 'zstd:19'];

test('parseCodec accepts every codec with its levels and rejects the rest', () => {
  assert.deepEqual(parseCodec('zstd'), { name: 'zstd', level: 3 });
  assert.deepEqual(parseCodec('gzip'), { name: 'gzip', level: 6 });
  assert.deepEqual(parseCodec('lz4'), { name: 'lz4' });
  assert.equal(formatCodec(parseCodec('ZSTD:7')), 'zstd:7');
  for (const bad of ['zstd:0', 'zstd:20', 'gzip:10', 'lz4:3', 'none:1', 'brotli', '']) {
    assert.throws(
      () => parseCodec(bad),
      (e: PgkeepError) => e.code === 'USAGE',
      bad,
    );
  }
});

test('blobs round-trip through every codec, with and without encryption', () => {
  const key = randomKey();
  for (const spec of CODECS) {
    for (const k of [undefined, key]) {
      for (const data of [Buffer.alloc(0), randomData(1000), compressibleData(70000)]) {
        const blob = encodeBlob(parseCodec(spec), k, data);
        assert.equal(blob[0], CODEC_IDS[spec.split(':')[0] as CodecName]);
        assert.equal(blob[1], k ? 1 : 0);
        assert.ok(Buffer.from(decodeBlob(k, blob)).equals(data), `${spec} ${k ? 'enc' : 'plain'} ${data.length}`);
      }
    }
  }
  const c = compressibleData(100000);
  assert.ok(encodeBlob(parseCodec('zstd'), undefined, c).length < c.length / 2, 'zstd compresses text');
});

test('encrypted blobs hide the plaintext and fail authentication when one bit flips', () => {
  const key = randomKey();
  const data = Buffer.from('secret pgkeep data '.repeat(100));
  const blob = encodeBlob(parseCodec('none'), key, data);
  assert.equal(blob.indexOf('secret'), -1);
  for (const at of [0, 1, 5, blob.length - 1]) {
    const bad = Buffer.from(blob);
    bad[at]! ^= 1;
    assert.throws(() => decodeBlob(key, bad), `flip at ${at}`);
  }
  assert.throws(() => decodeBlob(randomKey(), blob), /authentication failed/);
  assert.throws(() => decodeBlob(undefined, blob), /encrypted/);
});

test('objects carry their own integrity check, encrypted or not, bound to their name', () => {
  const key = randomKey();
  const data = compressibleData(5000);
  for (const k of [undefined, key]) {
    for (const spec of CODECS) {
      const obj = encodeObject(parseCodec(spec), k, 'wal/x/seg', data);
      assert.ok(decodeObject(k, 'wal/x/seg', obj).equals(data));
      const bad = Buffer.from(obj);
      bad[bad.length - 3]! ^= 0x40;
      assert.throws(() => decodeObject(k, 'wal/x/seg', bad), `${spec} ${k ? 'enc' : 'plain'}`);
    }
  }
  const enc = encodeObject(parseCodec('zstd'), key, 'a', data);
  assert.throws(() => decodeObject(key, 'b', enc), /authentication/);
});

test('master key wrap: right passphrase unwraps, wrong one is PASSPHRASE', async () => {
  const { settings, masterKey } = await wrapMasterKey('correct horse', 'repo-1', undefined, TEST_KDF);
  assert.ok((await unwrapMasterKey('correct horse', 'repo-1', settings, 'loc')).equals(masterKey));
  await assert.rejects(
    unwrapMasterKey('wrong', 'repo-1', settings, 'loc'),
    (e: PgkeepError) => e.code === 'PASSPHRASE' && !e.message.includes('wrong'),
  );
  await assert.rejects(unwrapMasterKey('correct horse', 'repo-2', settings, 'loc'), (e: PgkeepError) => e.code === 'PASSPHRASE');
});

test('pack index and footer encode and decode', () => {
  const entries = [
    { offset: 8, length: 100, rawLength: 131072, kind: 0, sha256: 'ab'.repeat(32) },
    { offset: 108, length: 7, rawLength: 7, kind: 1, sha256: '01'.repeat(32) },
  ];
  assert.deepEqual(decodePackIndex(encodePackIndex(entries)), entries);
  assert.deepEqual(decodeFooter(encodeFooter(115, 50), 115 + 50 + 24), { indexOffset: 115, indexLength: 50 });
  assert.throws(() => decodeFooter(encodeFooter(115, 50), 115 + 50 + 23));
  const id = 'ab' + '0'.repeat(30);
  assert.equal(packIdFromKey(packKey(id)), id);
  assert.equal(packIdFromKey('packs/cd/' + id), undefined);
});

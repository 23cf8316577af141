import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CRC32C_INIT, crc32c, crc32cFinish, crc32cUpdate } from './crc32c.js';

/** Bit by bit, the definition. */
function slow(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test('CRC-32C: the standard check value, the bitwise definition, and incremental use', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  for (const n of [0, 1, 7, 8, 9, 63, 1000]) {
    const d = randomBytes(n);
    assert.equal(crc32c(d), slow(d), `length ${n}`);
    const cut = Math.floor(n / 3);
    assert.equal(crc32cFinish(crc32cUpdate(crc32cUpdate(CRC32C_INIT, d.subarray(0, cut)), d.subarray(cut))), slow(d));
  }
});

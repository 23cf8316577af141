import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { applyDelta, DELTA_HEADER_BYTES, encodeDeltaInto, readDeltaHeader } from './delta-codec.js';

const UNIT = 8192;

function changed(base: Buffer, units: number[], unit = UNIT): Buffer {
  const data = Buffer.from(base);
  for (const u of units) data[u * unit + 17] = (data[u * unit + 17]! + 1) & 255;
  return data;
}

function encode(base: Buffer, data: Buffer, limit = base.length): Buffer | undefined {
  const out = Buffer.alloc(base.length + DELTA_HEADER_BYTES + 16);
  const n = encodeDeltaInto(base, data, out, limit);
  return n < 0 ? undefined : out.subarray(0, n);
}

test('a delta holds exactly the changed units and rebuilds the chunk', () => {
  const base = randomBytes(128 * 1024);
  for (const units of [[], [0], [15], [3, 4, 9], [0, 1, 2, 3, 4, 5, 6, 7]]) {
    const data = changed(base, units);
    const delta = encode(base, data)!;
    assert.equal(delta.length, DELTA_HEADER_BYTES + 2 + units.length * UNIT, `units ${units}`);
    assert.equal(readDeltaHeader(delta).count, units.length);
    const out = Buffer.alloc(base.length);
    applyDelta(base, delta, out);
    assert.ok(out.equals(data), `units ${units}`);
  }
});

test('a chunk whose last unit is short, and one of a size that is no multiple of 8 units', () => {
  for (const size of [3 * UNIT + 100, 9 * UNIT + 1]) {
    const base = randomBytes(size);
    const last = Math.ceil(size / UNIT) - 1;
    const data = changed(base, [0, last]);
    data[size - 1] = (data[size - 1]! + 1) & 255;
    const delta = encode(base, data)!;
    const out = Buffer.alloc(size);
    applyDelta(base, delta, out);
    assert.ok(out.equals(data));
  }
});

test('a delta larger than the limit is refused (-1): the chunk is stored whole', () => {
  const base = randomBytes(128 * 1024);
  const data = changed(base, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(encode(base, data, base.length / 2), undefined);
  assert.ok(encode(base, changed(base, [0, 1, 2, 3, 4, 5, 6]), base.length / 2));
});

test('a delta cut at every offset, or with a byte too many, is refused', () => {
  const base = randomBytes(4 * UNIT);
  const delta = encode(base, changed(base, [1, 3]))!;
  const out = Buffer.alloc(base.length);
  for (let cut = 0; cut < delta.length; cut++) {
    assert.throws(() => applyDelta(base, delta.subarray(0, cut), out), /truncated|bytes, \d+ expected/, `cut at ${cut}`);
  }
  assert.throws(() => applyDelta(base, Buffer.concat([delta, Buffer.alloc(1)]), out), /expected/);
});

test('a malformed header is refused with what is wrong', () => {
  const base = randomBytes(4 * UNIT);
  const delta = encode(base, changed(base, [2]))!;
  const bad = (f: (d: Buffer) => void) => {
    const d = Buffer.from(delta);
    f(d);
    return d;
  };
  const out = Buffer.alloc(base.length);
  assert.throws(
    () =>
      applyDelta(
        base,
        bad((d) => d.write('XXXX', 0, 'latin1')),
        out,
      ),
    /PKD1/,
  );
  assert.throws(
    () =>
      applyDelta(
        base,
        bad((d) => d.writeUInt32BE(0, 4)),
        out,
      ),
    /unit is 0/,
  );
  assert.throws(
    () =>
      applyDelta(
        base,
        bad((d) => d.writeUInt32BE(2, 12)),
        out,
      ),
    /says 2 units/,
  );
  assert.throws(
    () =>
      applyDelta(
        base,
        bad((d) => (d[DELTA_HEADER_BYTES] = 0b10100)),
        out,
      ),
    /marks unit 4/,
  );
  assert.throws(() => applyDelta(base.subarray(0, 3 * UNIT), delta, Buffer.alloc(3 * UNIT)), /its base has/);
});

/**
 * One storage contract, one suite: every test runs against the posix driver and against the S3
 * driver talking to a real Ceph RGW on 127.0.0.1 (PGKEEP_TEST_S3=skip runs posix only).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isPgkeepError } from '../../errors.js';
import { storageFixtures, testedStorageKinds } from '../../test-support/storage-fixtures.js';
import type { StorageDriver } from './driver.js';
import { compareKeys, TEMP_PREFIX } from './keys.js';
import { PosixDriver } from './posix/index.js';
import { openTemp } from './posix/atomic-file.js';
import { openStorage, S3Driver } from './index.js';
import { keysOf, MiB, randomStream, streamingTests } from './test-storage-streams.js';

const execFileAsync = promisify(execFile);
const fx = storageFixtures();
after(() => fx.stop());

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => isPgkeepError(e) && e.code === code);
}

for (const kind of testedStorageKinds()) {
  describe(`storage conformance: ${kind}`, () => {
    before(() => fx.ready(kind));

    test('put then get the whole object, and replace it', async () => {
      const d = await fx.open(kind);
      const data = randomBytes(1000);
      await d.put('a/b/object', data);
      assert.deepEqual(await d.get('a/b/object'), data);
      await d.put('a/b/object', Buffer.from('second version'));
      assert.equal((await d.get('a/b/object')).toString(), 'second version');
      await d.put('empty', Buffer.alloc(0));
      assert.equal((await d.get('empty')).length, 0);
    });

    test('ranged get: first byte, middle, last byte, whole, past the end', async () => {
      const d = await fx.open(kind);
      const data = randomBytes(4096);
      await d.put('r', data);
      assert.deepEqual(await d.get('r', { offset: 0, length: 1 }), data.subarray(0, 1));
      assert.deepEqual(await d.get('r', { offset: 1000, length: 2000 }), data.subarray(1000, 3000));
      assert.deepEqual(await d.get('r', { offset: 4095, length: 1 }), data.subarray(4095));
      assert.deepEqual(await d.get('r', { offset: 0, length: 4096 }), data);
      assert.deepEqual(await d.get('r', { offset: 4000, length: 500 }), data.subarray(4000));
      assert.equal((await d.get('r', { offset: 4096, length: 10 })).length, 0);
      assert.equal((await d.get('r', { offset: 10, length: 0 })).length, 0);
    });

    streamingTests(fx, kind);

    test('createIfAbsent creates once; the second call changes nothing', async () => {
      const d = await fx.open(kind);
      assert.equal(await d.createIfAbsent('locks/exclusive', Buffer.from('first')), true);
      assert.equal(await d.createIfAbsent('locks/exclusive', Buffer.from('second')), false);
      assert.equal((await d.get('locks/exclusive')).toString(), 'first');
      await d.delete('locks/exclusive');
      assert.equal(await d.createIfAbsent('locks/exclusive', Buffer.from('third')), true);
      assert.equal((await d.get('locks/exclusive')).toString(), 'third');
    });

    test('concurrent createIfAbsent of one key: exactly one wins', async () => {
      const d = await fx.open(kind);
      for (let round = 0; round < 3; round++) {
        const key = `race/${round}`;
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => d.createIfAbsent(key, Buffer.from(`writer ${i}`))));
        const winners = results.flatMap((r, i) => (r ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: winners ${JSON.stringify(winners)}`);
        assert.equal((await d.get(key)).toString(), `writer ${winners[0]}`);
      }
    });

    test('list returns keys under a prefix in lexical (UTF-8 byte) order', async () => {
      const d = await fx.open(kind);
      const keys = ['ord/a-c', 'ord/a/b', 'ord/a/b0', 'ord/a.d', 'ord/a0', 'ord/ab/c', 'ord/A', 'ord/Z', 'ord/é', 'ord/😀', 'ord/~'];
      for (const k of [...keys].reverse()) await d.put(k, Buffer.from(k));
      await d.put('other/x', Buffer.from('x'));
      await d.put('ordinal', Buffer.from('y'));
      const expected = [...keys].sort(compareKeys);
      assert.deepEqual(await keysOf(d, 'ord/'), expected);
      assert.deepEqual(await keysOf(d, 'ord'), [...expected, 'ordinal'].sort(compareKeys));
      assert.deepEqual(await keysOf(d, 'ord/a/'), ['ord/a/b', 'ord/a/b0']);
      assert.deepEqual(await keysOf(d, 'ord/a/b'), ['ord/a/b', 'ord/a/b0']);
      assert.deepEqual(await keysOf(d, 'nothing/'), []);
      const all = await keysOf(d, '');
      assert.equal(all.length, keys.length + 2);
      for await (const o of d.list('ord/Z')) assert.deepEqual([o.key, o.size], ['ord/Z', 5]);
    });

    test('list pages through more than 1000 keys', async () => {
      const d = await fx.open(kind);
      const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      const queue = [...keys];
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let k = queue.shift(); k !== undefined; k = queue.shift()) await d.put(k, Buffer.from('.'));
        }),
      );
      const listed = await keysOf(d, 'many/');
      assert.equal(listed.length, 1100);
      assert.deepEqual(listed, keys);
    });

    test('stat gives size and modification time', async () => {
      const d = await fx.open(kind);
      const t0 = Date.now();
      await d.put('st/x', randomBytes(777));
      const info = await d.stat('st/x');
      assert.equal(info?.key, 'st/x');
      assert.equal(info?.size, 777);
      assert.ok(info && Math.abs(info.mtimeMs - t0) < 5 * 60_000, 'mtime is about now');
      assert.equal(await d.stat('st/missing'), undefined);
      assert.equal(await d.stat('st'), undefined, 'a "directory" is not an object');
    });

    test('delete removes an object; deleting a missing one is fine', async () => {
      const d = await fx.open(kind);
      await d.put('del/x', Buffer.from('x'));
      await d.delete('del/x');
      assert.equal(await d.stat('del/x'), undefined);
      await d.delete('del/x');
      await d.delete('never/existed');
      assert.deepEqual(await keysOf(d, ''), []);
    });

    test('missing objects are NOT_FOUND errors', async () => {
      const d = await fx.open(kind);
      await rejectsWith(d.get('no/such'), 'NOT_FOUND');
      await rejectsWith(d.get('no/such', { offset: 0, length: 10 }), 'NOT_FOUND');
      await rejectsWith(d.get('no/such', { offset: 0, length: 0 }), 'NOT_FOUND');
      await rejectsWith(d.getStream('no/such'), 'NOT_FOUND');
      await rejectsWith(d.getStream('no/such', { offset: 1, length: 1 }), 'NOT_FOUND');
      await assert.rejects(d.get('no/such'), /no\/such/);
    });

    test('keys with unusual characters round-trip', async () => {
      const d = await fx.open(kind);
      const keys = [
        'odd/space name',
        'odd/ünïcødé',
        'odd/emoji-😀',
        'odd/plus+equals=amp&',
        'odd/query?hash#pct%20',
        'odd/quotes\'"',
        'odd/brackets[]{}()',
        'odd/colon:semi;comma,',
        'odd/tilde~bang!at@dollar$',
        'odd/.hidden',
        'odd/star*caret^pipe|',
        'odd/lt<gt>',
      ];
      for (const k of keys) await d.put(k, Buffer.from(k));
      for (const k of keys) assert.equal((await d.get(k)).toString(), k);
      assert.deepEqual(await keysOf(d, 'odd/'), [...keys].sort(compareKeys));
      for (const k of keys) await d.delete(k);
      assert.deepEqual(await keysOf(d, 'odd/'), []);
    });

    test('invalid keys are refused', async () => {
      const d = await fx.open(kind);
      for (const bad of ['', '/abs', '../up', 'a/../b', 'a//b', 'a/./b', 'a/', `a/${TEMP_PREFIX}x`, 'back\\slash', 'new\nline']) {
        await assert.rejects(d.put(bad, Buffer.from('x')), /invalid repository object key/, JSON.stringify(bad));
        await assert.rejects(d.get(bad), /invalid repository object key/);
      }
    });
  });
}

/** A write abandoned half-way (a killed writer): a posix temp file, an S3 multipart upload never completed. */
async function abandonWrite(d: StorageDriver, key: string, bytes: number): Promise<void> {
  if (d instanceof PosixDriver) {
    const t = await openTemp(d.pathOf(key));
    await t.handle.write(randomBytes(bytes));
    await t.handle.close();
    return;
  }
  const s3 = d as S3Driver;
  const g = fx.rgw!;
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: g.region,
    endpoint: g.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: g.accessKeyId, secretAccessKey: g.secretAccessKey },
  });
  try {
    const Key = s3.prefix + key;
    const { UploadId } = await client.send(new sdk.CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }));
    await client.send(new sdk.UploadPartCommand({ Bucket: s3.bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(bytes) }));
  } finally {
    client.destroy();
  }
}

for (const kind of testedStorageKinds()) {
  test(`storage ${kind}: an abandoned write is listed as temporary (size, age), never by list(), and deleteTemporary removes it`, async () => {
    await fx.ready(kind);
    const d = await fx.open(kind);
    await d.put('packs/ab/kept', randomBytes(10));
    await abandonWrite(d, 'packs/ab/abandoned', 1000);
    const temp = [];
    for await (const t of d.listTemporary!()) temp.push(t);
    assert.equal(temp.length, 1, JSON.stringify(temp));
    assert.match(temp[0]!.key, kind === 'posix' ? new RegExp(`^packs/ab/${TEMP_PREFIX}`) : /^packs\/ab\/abandoned$/);
    assert.equal(temp[0]!.size, 1000);
    assert.ok(Math.abs(Date.now() - temp[0]!.mtimeMs) < 120_000, `mtime ${temp[0]!.mtimeMs}`);
    assert.deepEqual(await keysOf(d, ''), ['packs/ab/kept']);
    await d.deleteTemporary!(temp[0]!);
    await d.deleteTemporary!(temp[0]!); // already gone: not an error
    const after = [];
    for await (const t of d.listTemporary!()) after.push(t);
    assert.deepEqual(after, []);
    assert.deepEqual(await keysOf(d, ''), ['packs/ab/kept']);
  });
}

describe('storage: posix specifics', () => {
  test('directories are 0700, files 0600, and no temp files remain', async () => {
    const d = (await fx.open('posix')) as PosixDriver;
    await d.put('packs/ab/pack1', randomBytes(10));
    await d.putStream('snapshots/main/s1', Readable.from([randomBytes(100)]));
    assert.equal(await d.createIfAbsent('locks/exclusive', Buffer.from('{}')), true);
    assert.equal(await d.createIfAbsent('locks/exclusive', Buffer.from('{}')), false);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? [join(dir, e.name) + '/', ...walk(join(dir, e.name))] : [join(dir, e.name)],
      );
    const entries = [d.root + '/', ...walk(d.root)];
    for (const p of entries) {
      const mode = statSync(p).mode & 0o777;
      assert.equal(mode, p.endsWith('/') ? 0o700 : 0o600, `${p} has mode ${mode.toString(8)}`);
      assert.ok(!p.includes(TEMP_PREFIX), `temp file left: ${p}`);
    }
    assert.equal(entries.filter((p) => !p.endsWith('/')).length, 3);
  });

  test('createIfAbsent is atomic across processes', async () => {
    const d = (await fx.open('posix')) as PosixDriver;
    const driverUrl = new URL('./posix/index.js', import.meta.url).href;
    const script =
      `const { PosixDriver } = await import(${JSON.stringify(driverUrl)});` +
      `const d = new PosixDriver(${JSON.stringify(d.root)});` +
      `process.stdout.write(String(await d.createIfAbsent('locks/exclusive', Buffer.from('pid ' + process.pid))));`;
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script]);
        return stdout;
      }),
    );
    assert.deepEqual(results.filter((r) => r === 'true').length, 1, JSON.stringify(results));
    assert.deepEqual(results.filter((r) => r === 'false').length, 3);
    assert.match((await d.get('locks/exclusive')).toString(), /^pid \d+$/);
  });

  test('an interrupted putStream leaves no visible object and no temp file', async () => {
    const d = (await fx.open('posix')) as PosixDriver;
    await assert.rejects(d.putStream('w/x', randomStream(5 * MiB, 1 * MiB).stream));
    assert.deepEqual(await keysOf(d, ''), []);
    assert.deepEqual(readdirSync(join(d.root, 'w')), []);
  });

  test('temp files of a crashed writer are never listed', async () => {
    const d = (await fx.open('posix')) as PosixDriver;
    await d.put('w/real', Buffer.from('x'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(d.root, 'w', `${TEMP_PREFIX}deadbeef`), 'partial');
    assert.deepEqual(await keysOf(d, ''), ['w/real']);
    assert.deepEqual(await keysOf(d, 'w/'), ['w/real']);
  });
});

describe('openStorage', () => {
  test('chooses the driver from the location', async () => {
    const p = openStorage('relative/repo');
    assert.ok(p instanceof PosixDriver);
    assert.equal(p.location, join(process.cwd(), 'relative/repo'));
    const s = openStorage('s3://bucket/some/prefix/', { s3Endpoint: 'http://127.0.0.1:1' });
    assert.ok(s instanceof S3Driver);
    assert.equal(s.location, 's3://bucket/some/prefix');
    assert.equal((s as S3Driver).prefix, 'some/prefix/');
    assert.throws(() => openStorage('s3://'), /invalid S3 repository location/);
    await s.close();
  });

  test('S3 through openStorage with credentials from the environment', { skip: !testedStorageKinds().includes('s3') }, async () => {
    const st = await fx.s3Settings();
    const saved = { ...process.env };
    Object.assign(process.env, st.env);
    try {
      const d = openStorage(st.location, { s3Endpoint: st.s3Endpoint, s3Region: st.s3Region });
      await d.put('hello', Buffer.from('world'));
      assert.equal((await d.get('hello')).toString(), 'world');
      await d.close();
      process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret';
      const bad = openStorage(st.location, { s3Endpoint: st.s3Endpoint, s3Region: st.s3Region });
      await assert.rejects(bad.get('hello'), (e: unknown) => {
        assert.ok(isPgkeepError(e));
        assert.equal(e.code, 'REPOSITORY');
        assert.match(e.hint ?? '', /AWS_ACCESS_KEY_ID/);
        assert.ok(!e.message.includes('wrong-secret'));
        return true;
      });
      await bad.close();
    } finally {
      for (const k of Object.keys(st.env)) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  test('an unreachable S3 endpoint is a REPOSITORY error with a hint', { skip: !testedStorageKinds().includes('s3') }, async () => {
    const d = new S3Driver({
      location: 's3://nowhere/x',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
    await assert.rejects(d.stat('k'), (e: unknown) => isPgkeepError(e) && e.code === 'REPOSITORY' && /127\.0\.0\.1:9/.test(e.hint ?? ''));
    await d.close();
  });
});

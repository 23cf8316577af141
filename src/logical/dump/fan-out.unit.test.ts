/**
 * fanOut ends its side sinks however the copy ends: the pg_restore processes reading the TOC
 * wait on their stdin, and one left open would keep a failed dump waiting forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { fanOut } from './fan-out.js';

function closed(w: Writable): Promise<void> {
  return new Promise((res) => {
    if (w.writableEnded || w.destroyed) return res();
    w.once('finish', () => res());
    w.once('close', () => res());
  });
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what} after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

test('the main sink failing (the repository) ends the side sinks too', async () => {
  const source = new PassThrough();
  const main = new Writable({ write: (_c, _e, cb) => cb(new Error('disk full')) });
  main.on('error', () => {});
  const side = new PassThrough();
  side.resume();
  fanOut(source, main, [side]);
  source.write(Buffer.alloc(1000));
  await within(closed(side), 2000, 'the side sink is still open');
});

test('the source failing (pg_dump killed) ends the side sinks', async () => {
  const source = new PassThrough();
  const main = new PassThrough();
  main.on('error', () => {});
  main.resume();
  const side = new PassThrough();
  side.resume();
  fanOut(source, main, [side]);
  source.write(Buffer.alloc(1000));
  source.destroy(new Error('pg_dump died'));
  await within(closed(side), 2000, 'the side sink is still open');
});

test('a normal end ends every sink with all the bytes', async () => {
  const source = new PassThrough();
  const main = new PassThrough();
  const side = new PassThrough();
  const got = { main: 0, side: 0 };
  main.on('data', (b: Buffer) => (got.main += b.length));
  side.on('data', (b: Buffer) => (got.side += b.length));
  fanOut(source, main, [side]);
  for (let i = 0; i < 10; i++) source.write(Buffer.alloc(100_000));
  source.end();
  await within(Promise.all([closed(main), closed(side)]), 2000, 'not ended');
  assert.deepEqual(got, { main: 1_000_000, side: 1_000_000 });
});

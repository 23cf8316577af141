/**
 * Feeding an archive to a tool that ends early (pg_restore stops at its first error, or cannot
 * connect after reading the TOC): the call settles with the tool's exit, however the input
 * stream tears down; an input that fails is the error, even when the tool exits 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { PgkeepError } from '../../errors.js';
import { runRestoreTool } from './run-restore.js';

const sh = { path: '/bin/sh', major: 15, version: '15' };

/** A large input whose teardown never finishes (as a repository stream waiting on its read-ahead). */
function stubbornInput(): Readable {
  let n = 0;
  return new Readable({
    highWaterMark: 1 << 20,
    read() {
      this.push(n++ < 64 ? Buffer.alloc(1 << 20, n) : null);
    },
    destroy() {
      // never calls back
    },
  });
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: still pending after ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

for (const [label, script] of [
  ['exits before reading stdin', 'exit 3'],
  ['reads some of stdin, then exits', 'head -c 100000 >/dev/null; exit 3'],
] as const) {
  test(`a tool that ${label} while a large stream is written to it: the call settles with its exit code`, async () => {
    for (let i = 0; i < 5; i++) {
      const r = await bounded(
        runRestoreTool({ tool: sh, args: ['-c', script], env: process.env, input: stubbornInput() }),
        10_000,
        'runRestoreTool',
      );
      assert.equal(r.exit.code, 3);
    }
  });
}

test('an input that fails is the error, even when the tool reads to the end and exits 0', async () => {
  let sent = 0;
  const input = new Readable({
    read() {
      if (sent++ < 3) this.push(Buffer.alloc(64 * 1024, 1));
      else this.destroy(new PgkeepError('DATA_INTEGRITY', 'chunk 4 is damaged'));
    },
  });
  await assert.rejects(
    bounded(runRestoreTool({ tool: sh, args: ['-c', 'cat >/dev/null; exit 0'], env: process.env, input }), 10_000, 'runRestoreTool'),
    (e: PgkeepError) => e.code === 'DATA_INTEGRITY',
  );
});

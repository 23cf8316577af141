/**
 * A full disk under the prefetch spool pauses prefetching and never fails recovery: what fits is
 * served intact, no partial file is left, what did not fit is read from the repository by the
 * get; and the free-space guard keeps the prefetcher from filling the file system at all. A
 * small tmpfs stands in for the full disk (root only: skipped otherwise).
 */
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultTest } from '../test-support/faults.js';
import { PgkeepError } from '../errors.js';
import { spoolEntries, takeFromSpool } from './spool.js';
import { recordServed, runPrefetch } from './prefetch.js';

const SEG = 1024 * 1024;
const SYS = '7000000000000000001';
const root = process.getuid?.() === 0;
const work = mkdtempSync(join(tmpdir(), 'pgkeep-spool-full-'));
const mounts: string[] = [];

after(() => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});

function smallDisk(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', dir]);
  mounts.push(dir);
  mkdirSync(join(dir, 'spool'));
  return join(dir, 'spool');
}

function segment(n: number): Buffer {
  const b = Buffer.alloc(SEG, n);
  b.writeUInt16LE(0xd110, 0);
  b.writeUInt16LE(0x0002, 2);
  b.writeUInt32LE(1, 4);
  b.writeBigUInt64LE(BigInt(n) * BigInt(SEG), 8);
  b.writeBigUInt64LE(BigInt(SYS), 24);
  b.writeUInt32LE(SEG, 32);
  b.writeUInt32LE(8192, 36);
  return b;
}
const name = (n: number) => `00000001000000000000${n.toString(16).toUpperCase().padStart(4, '0')}`;
const repo = {
  getObject: async (key: string) => {
    const m = /([0-9A-F]{24})/.exec(key);
    const n = Number.parseInt(m![1]!.slice(16), 16);
    if (n > 40) throw new PgkeepError('NOT_FOUND', key);
    return segment(n);
  },
} as never;
const opts = (spoolDir: string, reserveBytes?: number) => ({
  cluster: 'c',
  systemIdentifier: SYS,
  spoolDir,
  count: 8,
  segmentSize: SEG,
  maxBytes: 64 * SEG,
  idleMs: 300,
  pollMs: 10,
  reserveBytes,
});

faultTest(
  'disk full in the spool: prefetching pauses, no partial file, what was spooled is served intact, the rest is read directly',
  async (t) => {
    if (!root) return t.skip('needs root to mount a small tmpfs');
    const spool = smallDisk('full');
    await recordServed(spool, name(2));
    const r = await runPrefetch(repo, opts(spool, -SEG)); // the free-space guard off: the writes themselves hit ENOSPC
    assert.ok(r.diskFull >= 1, `the disk filled up (${JSON.stringify(r)})`);
    assert.ok(r.fetched.length >= 1 && r.fetched.length < 8, `some segments fit: ${r.fetched.join(', ')}`);
    assert.deepEqual(
      readdirSync(spool).filter((e) => e.startsWith('.tmp-') && !e.includes('want')),
      [],
      'no partial file',
    );
    for (const f of r.fetched) {
      const n = Number.parseInt(f.slice(16), 16);
      const taken = await takeFromSpool(spool, f, SYS, join(work, 'out'));
      assert.ok(taken.served, f);
      assert.ok(readFileSync(join(work, 'out')).equals(segment(n)), `${f} intact`);
    }
    const notSpooled = name(2 + 8);
    assert.deepEqual(
      await takeFromSpool(spool, notSpooled, SYS, join(work, 'out')),
      { served: false },
      'a miss: the get reads the repository',
    );
  },
);

faultTest('a nearly full file system: the prefetcher leaves the free space recovery needs and writes nothing', async (t) => {
  if (!root) return t.skip('needs root to mount a small tmpfs');
  const spool = smallDisk('reserve');
  await recordServed(spool, name(2));
  const r = await runPrefetch(repo, opts(spool)); // default reserve: 4 segments, more than the 3 MiB there is
  assert.deepEqual(r.fetched, []);
  assert.equal(r.diskFull, 0, 'no write was even tried');
  assert.equal((await spoolEntries(spool)).size, 0);
});

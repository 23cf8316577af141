import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prefetchToStart, recoveryDataDir, restoreSpoolRoot } from './restore-command.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'pgkeep-restore-command-'));
}

test('the data directory is the working directory recovery runs restore_command in, else the configured pgdata', () => {
  const dir = scratch();
  try {
    assert.equal(recoveryDataDir(dir, '/configured'), '/configured');
    assert.equal(recoveryDataDir(dir, undefined), undefined);
    writeFileSync(join(dir, 'PG_VERSION'), '15\n');
    assert.equal(recoveryDataDir(dir, '/configured'), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the spool root: --spool-dir, else pg_wal/pgkeep-spool of the data directory, and only with --prefetch', () => {
  assert.equal(restoreSpoolRoot({ prefetch: 0, dataDir: '/d' }), undefined);
  assert.equal(restoreSpoolRoot({ prefetch: 2, dataDir: '/d' }), '/d/pg_wal/pgkeep-spool');
  assert.equal(restoreSpoolRoot({ prefetch: 2, dataDir: undefined }), undefined);
  assert.equal(restoreSpoolRoot({ prefetch: 0, dataDir: '/d', spoolRoot: '/s' }), '/s');
});

test('a prefetcher starts for the next segments the spool lacks, unless a live one holds the spool', async () => {
  const spoolDir = join(scratch(), 'spool');
  const p = { spoolDir, after: '000000010000000000000003', count: 2, segmentSize: 16 * 1024 * 1024, systemIdentifier: '42' };
  try {
    assert.deepEqual(await prefetchToStart(p), { spoolDir, first: '000000010000000000000004', count: 2, segmentSize: p.segmentSize, systemIdentifier: '42' });
    mkdirSync(spoolDir, { recursive: true });
    writeFileSync(join(spoolDir, '000000010000000000000004'), '');
    assert.ok(await prefetchToStart(p), 'one of the two is missing');
    writeFileSync(join(spoolDir, '000000010000000000000005'), '');
    assert.equal(await prefetchToStart(p), undefined, 'the spool has both');
    rmSync(join(spoolDir, '000000010000000000000005'));
    writeFileSync(join(spoolDir, '.prefetch.pid'), String(process.pid));
    assert.equal(await prefetchToStart(p), undefined, 'a live prefetcher holds the spool');
    writeFileSync(join(spoolDir, '.prefetch.pid'), '999999999');
    assert.ok(await prefetchToStart(p), 'a stale pid file does not');
  } finally {
    rmSync(join(spoolDir, '..'), { recursive: true, force: true });
  }
});

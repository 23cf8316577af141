import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoveryDataDir, restoreSpoolRoot } from './restore-command.js';

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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoveryDataDir, restoreSpoolRoot } from './restore-command.js';
import { parseFastGet } from '../cli/fast-wal-get.js';

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

test('the fast path of wal get takes only the command line pgkeep restore writes', () => {
  const ok = parseFastGet([
    '--repo',
    '/r',
    '--cluster',
    'c',
    '--passphrase-file',
    '/p',
    'wal',
    'get',
    '--prefetch',
    '8',
    '000000010000000000000003',
    'pg_wal/RECOVERYXLOG',
  ]);
  assert.deepEqual(ok && { name: ok.name, destination: ok.destination, repo: ok.globals.get('--repo') }, {
    name: '000000010000000000000003',
    destination: 'pg_wal/RECOVERYXLOG',
    repo: '/r',
  });
  const withSystem = parseFastGet([
    '--repo',
    '/r',
    '--cluster',
    'c',
    'wal',
    'get',
    '--prefetch',
    '8',
    '--system-id',
    '7301',
    '000000010000000000000003',
    'x',
  ]);
  assert.equal(withSystem?.systemId, '7301', 'the system identifier restore writes');
  assert.equal(withSystem?.name, '000000010000000000000003');
  for (const args of [
    ['--repo', '/r', '--cluster', 'c', 'wal', 'get', '--prefetch', '8', '--system-id', 'x1', '000000010000000000000003', 'x'],
    ['--repo', '/r', '--cluster', 'c', 'wal', 'get', '--prefetch', '8', '--system-id', '000000010000000000000003', 'x'],
    ['--repo', '/r', '--cluster', 'c', 'wal', 'get', '000000010000000000000003', 'x'], // no prefetch
    ['--repo', '/r', '--cluster', 'c', 'wal', 'get', '--prefetch', '0', '000000010000000000000003', 'x'],
    ['--repo', '/r', '--cluster', 'c', 'wal', 'get', '--prefetch', '8', '00000002.history', 'x'], // only segments
    ['--cluster', 'c', 'wal', 'get', '--prefetch', '8', '000000010000000000000003', 'x'], // repository from a config file
    ['--repo', '/r', '--cluster', 'c', '--json', 'wal', 'get', '--prefetch', '8', '000000010000000000000003', 'x'],
    ['--repo', '/r', '--cluster', 'c', 'wal', 'get', '--prefetch', '8', '--spool-dir', '/s', '000000010000000000000003', 'x'],
  ])
    assert.equal(parseFastGet(args), undefined, args.join(' '));
});

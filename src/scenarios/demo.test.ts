// `pgkeep demo` end to end, as `npm run demo` runs it: one throwaway cluster, removed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_STEPS } from './demo.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

test('the demo tells its steps, shows inspect and doctor on the shop database, and cleans up', async () => {
  const home = mkdtempSync(join(tmpdir(), 'pgkeep-demo-test-'));
  try {
    const { stdout } = await execFileP(process.execPath, [BIN, 'demo'], { env: { ...process.env, HOME: home }, cwd: home });
    const titles = [...stdout.matchAll(/^== Step (\d)\/(\d): (.*)$/gm)].map((m) => m[3]);
    assert.deepEqual(titles, DEMO_STEPS.map((s) => s.title));
    assert.match(stdout, /loaded 300 customers, 40 products, 600 orders/);
    // inspect: the shop tables with their estimated rows, the view and the function
    assert.match(stdout, /public\.orders\s+600\s/);
    assert.match(stdout, /public\.customers\s+300\s/);
    assert.match(stdout, /public\.order_totals/);
    assert.match(stdout, /public\.customer_total\(customer integer\)\s+numeric/);
    // doctor: a fresh cluster is ready for stream backups but has no WAL archiving yet
    assert.match(stdout, /FAIL\s+archive_mode\s/);
    assert.match(stdout, /stream\s+ready/);
    assert.match(stdout, /archive\s+not ready/);
    assert.match(stdout, /Demo finished: 4 steps in/);
    const dataDir = /PostgreSQL [\d.]+ in (\S+), port \d+/.exec(stdout)?.[1];
    assert.ok(dataDir, 'the demo names its data directory');
    assert.equal(existsSync(dataDir), false, 'the throwaway cluster is removed');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

// `pgkeep demo` end to end, as `npm run demo` runs it: one throwaway cluster, removed at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_STEPS, LATER_CUSTOMERS, NEW_ORDERS } from './demo.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

test('the demo tells its story: shop, inspect, doctor, archiving, backup, DROP TABLE, point-in-time recovery; then cleans up', async () => {
  const home = mkdtempSync(join(tmpdir(), 'pgkeep-demo-test-'));
  try {
    const { stdout } = await execFileP(process.execPath, [BIN, 'demo'], { env: { ...process.env, HOME: home }, cwd: home });
    const titles = [...stdout.matchAll(/^== Step (\d+)\/(\d+): (.*)$/gm)].map((m) => m[3]);
    assert.deepEqual(
      titles,
      DEMO_STEPS.map((s) => s.title),
    );
    assert.match(stdout, /loaded 300 customers, 40 products, 600 orders/);
    // inspect: the shop tables with their estimated rows, the view and the function
    assert.match(stdout, /public\.orders\s+600\s/);
    assert.match(stdout, /public\.customer_total\(customer integer\)\s+numeric/);
    // doctor: a fresh cluster is ready for stream backups but has no WAL archiving yet
    assert.match(stdout, /FAIL\s+archive_mode\s/);
    assert.match(stdout, /archive\s+not ready/);
    // archiving and the backup (600 orders in it)
    assert.match(stdout, /archive_command = '.* wal push %p'/);
    assert.match(stdout, /first segment archived: [0-9A-F]{24}/);
    assert.match(stdout, /backup \S+: \d+ files, .*\n.*; 600 orders in the backup/);
    // 50 more orders, then the drop, then later writes (2 customers, a price)
    assert.match(stdout, new RegExp(`${600 + NEW_ORDERS} orders now \\(\\+${NEW_ORDERS};`));
    assert.match(stdout, /DROP TABLE orders CASCADE at .*: the table is gone/);
    assert.match(stdout, new RegExp(`${300 + LATER_CUSTOMERS} customers now, product 1 costs (\\d+\\.\\d+)`));
    const laterPrice = new RegExp(`${300 + LATER_CUSTOMERS} customers now, product 1 costs (\\d+\\.\\d+)`).exec(stdout)![1]!;
    // recovery: data from the base backup, then WAL replayed from the archive, stopping before the drop's commit
    assert.match(stdout, /from the base backup: \d+ files, .* written into /);
    assert.match(stdout, /from the WAL archive: \d+ segments? replayed/);
    assert.match(stdout, /the server says: recovery stopping before commit of transaction \d+/);
    // the comparison: every order back (650), the view back; the later writes absent
    const orders = /^\s*orders\s+(\S+)\s+(\d+) \((\d+) before the drop\)$/m.exec(stdout);
    assert.ok(orders, stdout);
    assert.equal(orders[1], 'gone', 'the original has no orders table');
    assert.equal(Number(orders[2]), 600 + NEW_ORDERS, 'every order is back');
    assert.equal(Number(orders[3]), 600 + NEW_ORDERS);
    assert.match(stdout, /^\s*order_totals view\s+gone\s+back$/m);
    assert.match(
      stdout,
      new RegExp(`^\\s*customers\\s+${300 + LATER_CUSTOMERS}\\s+300$`, 'm'),
      'the later customers are not in the recovered copy',
    );
    const prices = /^\s*product 1 price\s+(\S+)\s+(\S+)$/m.exec(stdout)!;
    assert.equal(prices[1], laterPrice);
    assert.equal(Number(prices[2]), Number(laterPrice) - 1, 'the later price change is not in the recovered copy');
    assert.match(stdout, /Every order written before the drop is back; the writes made after the target are not\./);
    assert.match(stdout, new RegExp(`Demo finished: ${DEMO_STEPS.length} steps in`));
    // everything removed: both clusters, the repository
    const dataDir = /PostgreSQL [\d.]+ in (\S+), port \d+/.exec(stdout)?.[1];
    assert.ok(dataDir, 'the demo names its data directory');
    assert.equal(existsSync(dataDir), false, 'the throwaway cluster is removed');
    const repoDir = /^\s*repository: (\S+)$/m.exec(stdout)?.[1];
    assert.ok(repoDir && !existsSync(repoDir), 'the repository is removed');
    const recovered = /written into (\S+) in /.exec(stdout)?.[1];
    assert.ok(recovered && !existsSync(recovered), 'the recovered cluster is removed');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

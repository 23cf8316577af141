/**
 * The dashboard in a real browser (Debian's headless Chromium driven by playwright-core), over
 * real parts: one PostgreSQL cluster archiving into a posix repository, two physical backups,
 * a logical dump, a drill record, and a segment deleted from the archive (the gap). The page must
 * show the counts, the backups' dates, the gap naming its segment, the drill's RTO, the schedule,
 * and render to a non-trivial screenshot. Served on a non-loopback address it must refuse to
 * start without a token, answer 401 without one, and 405 to anything but GET.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { LocalCluster } from '../pg/local-cluster.js';
import type { Repository } from '../repo/index.js';
import { backup, listBackups } from '../backup/index.js';
import { dump } from '../logical/index.js';
import { checkArchive } from '../wal/index.js';
import { walObjectName } from '../holdings/index.js';
import { archivingSource, batch, switchAndWait } from '../test-support/archiving-source.js';
import { runPgkeep } from '../test-support/cli.js';
import { faultTest } from '../test-support/faults.js';
import { exitCodeOf } from '../errors.js';
import {
  agentLogUrl,
  chromiumPath,
  drillRecord,
  freePort,
  startDashboardCli,
  writeDrillRecord,
  type RunningDashboard,
} from './test-dashboard.js';

let work: string;
let repo: Repository;
let src: LocalCluster;
let configFile: string;
let browser: Browser | undefined;
const running: RunningDashboard[] = [];
const TOKEN = 'dashboard-test-token-0123456789';

before(async () => {
  const executablePath = chromiumPath();
  work = mkdtempSync(join(tmpdir(), 'pgkeep-dashboard-test-'));
  ({ repo, src } = await archivingSource(work, 100));
  await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 1 });
  await batch(src, 101, 100, 'second');
  await switchAndWait(src);
  await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 1 });
  await dump({ repo, clusterName: 'test', cluster: src.connectionSettings() });
  for (let i = 0; i < 3; i++) {
    await batch(src, 1000 + i * 10, 10, `after-${i}`);
    await switchAndWait(src);
  }
  configFile = join(work, 'pgkeep.toml');
  writeFileSync(
    configFile,
    `[repo]
path = "${join(work, 'repo')}"
[cluster.test]
connection = "${src.connectionString()}"
pgdata = "${src.dataDir}"
[cluster.test.schedule]
backup_full = "0 2 * * *"
[dashboard]
refresh = "1s"
`,
  );
  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
});

after(async () => {
  await Promise.all(running.map((r) => r.stop()));
  await browser?.close();
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

faultTest('a WAL segment deleted from the archive shows as a red gap naming it; backups, dump and drill RTO shown', async () => {
  const before = await checkArchive(repo, 'test');
  assert.equal(before.ok, true, JSON.stringify(before.backups));
  const t = before.timelines[0]!;
  const backups = (await listBackups(repo, 'test')).filter((b) => b.kind === 'physical');
  // A segment after the second backup's WAL, with archived segments on both sides of it.
  const newest = before.backups.find((b) => b.id === backups[1]!.id)!;
  const victim = (await listSegments()).find((n) => n > newest.walEnd && n < t.last);
  assert.ok(victim, `a segment between ${newest.walEnd} and ${t.last}`);
  assert.equal(await repo.deleteObject(walObjectName('test', t.systemIdentifier, victim)), true);
  await writeDrillRecord(repo, drillRecord('test', new Date(Date.now() - 3_600_000), 83, 12, backups[1]!.id));
  // A damaged record is shown as damaged, never skipped.
  await repo.putObject('drills/test/20260101T000000Z.json', Buffer.from('{"format": 1, "id": '));

  const d = await startDashboardCli(['--config', configFile, 'dashboard', '--port', '0']);
  running.push(d);
  assert.match(d.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
  const response = await page.goto(d.url, { timeout: 60_000 });
  assert.equal(response?.status(), 200);
  const text = async (sel: string) => ((await page.locator(sel).first().textContent()) ?? '').trim();
  assert.equal(await text('[data-panel=window] [data-field=physical-count]'), '2');
  assert.equal(await text('[data-panel=dumps] [data-field=dump-count]'), '1');
  const backupTable = await text('[data-panel=backups] table');
  for (const b of backups) {
    assert.ok(backupTable.includes(b.id), `backup ${b.id} listed`);
    assert.ok(backupTable.includes(b.stopTime.slice(0, 19).replace('T', ' ')), `finish time of ${b.id} shown`);
  }
  assert.equal(await text('[data-panel=window] .gap-segment'), victim);
  assert.equal(await page.locator('[data-panel=window] svg rect.gap').count(), 1);
  assert.equal(await page.locator('[data-panel=window] svg rect.backup').count(), 2);
  assert.match(await text('[data-panel=window] [data-field=oldest]'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  assert.match(await text('[data-panel=window] [data-field=exposure]'), /^\d+(\.\d)? s$|min/);
  assert.equal(await text('[data-panel=drills] table .rto'), '1 min 23 s');
  assert.equal(await page.locator('[data-panel=drills] svg rect.rto').count(), 1);
  assert.match(await text('[data-panel=drills] .error'), /damaged drill record drills\/test\/20260101T000000Z\.json/);
  assert.equal(await text('[data-panel=schedule] tr:has-text("backup_full") td:nth-child(2)'), '0 2 * * *');
  assert.match(await text('[data-panel=schedule] tr:has-text("backup_full") td:nth-child(3)'), /^\d{4}-\d\d-\d\d 02:00:00Z$/);
  assert.ok((await text('[data-panel=repository]')).includes('×'), 'deduplication ratio shown');
  const shot = await page.screenshot({ fullPage: true });
  assert.deepEqual([...shot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  assert.ok(shot.length > 30_000, `a screenshot with content (${shot.length} bytes)`);
  assert.ok(shot.readUInt32BE(20) > 1000, `the page is long enough to hold the panels (${shot.readUInt32BE(20)} px)`);
  // To look at it: PGKEEP_TEST_SCREENSHOT=/tmp/dashboard.png.
  if (process.env.PGKEEP_TEST_SCREENSHOT) writeFileSync(process.env.PGKEEP_TEST_SCREENSHOT, shot);
  await page.close();
});

test('on a non-loopback address: no start without a token; 401 without it, the page with it; 405 to anything but GET', {
  timeout: 180_000,
}, async () => {
  const refused = await runPgkeep(['--config', configFile, 'dashboard', '--host', '0.0.0.0', '--port', '0']);
  assert.equal(refused.code, exitCodeOf('CONFIG'), refused.stderr);
  assert.match(refused.stderr, /without a token/);
  const d = await startDashboardCli(['--config', configFile, 'dashboard', '--host', '0.0.0.0', '--port', '0'], {
    PGKEEP_DASHBOARD_TOKEN: TOKEN,
  });
  running.push(d);
  const url = d.url.replace('0.0.0.0', '127.0.0.1');
  assert.equal((await fetch(url)).status, 401);
  assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
  assert.equal((await fetch(`${url}?token=wrong`, { redirect: 'manual' })).status, 401);
  assert.equal((await fetch(url, { method: 'POST' })).status, 405);
  assert.equal((await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })).status, 405);
  const byHeader = await fetch(`${url}data.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(byHeader.status, 200);
  const data = (await byHeader.json()) as { clusters: { backups: unknown[] }[] };
  assert.equal(data.clusters[0]!.backups.length, 3);
  // ?token= sets the cookie and sends the browser to the page without the token in its address.
  const page = await browser!.newPage();
  const response = await page.goto(`${url}?token=${TOKEN}`);
  assert.equal(response?.status(), 200);
  assert.equal(page.url(), url);
  assert.equal(await page.locator('[data-panel=window] [data-field=physical-count]').textContent(), '2');
  await page.close();
});

test('pgkeep agent serves the dashboard on [dashboard] port, with the schedule from its state, and closes it when it stops', {
  timeout: 120_000,
}, async () => {
  const port = await freePort();
  const agentConfig = join(work, 'agent.toml');
  writeFileSync(agentConfig, `${readFileSync(configFile, 'utf8')}port = ${port}\n[agent]\nstate_dir = "${join(work, 'agent')}"\n`);
  const agent = await startDashboardCli(['--config', agentConfig, 'agent'], {}, agentLogUrl);
  running.push(agent);
  assert.equal(agent.url, `http://127.0.0.1:${port}/`);
  const html = await (await fetch(agent.url)).text();
  assert.match(html, /from the agent&#39;s state/);
  assert.match(html, /<td>backup_full<\/td><td><code>0 2 \* \* \*<\/code><\/td><td>\d{4}-\d\d-\d\d 02:00:00Z<\/td>/);
  await agent.stop();
  assert.equal(agent.child.exitCode, 0);
  await assert.rejects(fetch(agent.url), 'the agent closed the dashboard');
});

async function listSegments(): Promise<string[]> {
  const names: string[] = [];
  for await (const o of repo.listObjects('wal/test/')) {
    const base = o.name.split('/').pop()!;
    if (/^[0-9A-F]{24}$/.test(base)) names.push(base);
  }
  return names.sort();
}

/**
 * The monitor against real parts: one PostgreSQL cluster archiving through `pgkeep wal push` into
 * a posix repository, a backup, an HTTP server and an SMTP sink started here. The repository is
 * made unwritable for the server's OS user: startMonitor must raise "archive stalled" within a
 * minute, a webhook, a Slack message and an e-mail must arrive; once fixed, the check returns to
 * OK with recovery notifications, and nothing is lost (wal check clean). `pgkeep status --json`
 * and the metrics endpoint must agree with `list` and `wal check` on the same repository.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { loadConfig } from '../config/index.js';
import { checkArchive } from '../wal/index.js';
import { archivingSource, batch, switchAndWait } from '../test-support/archiving-source.js';
import { runPgkeep } from '../test-support/cli.js';
import { faultTest } from '../test-support/faults.js';
import { MonitorMetrics, serveMetrics, startMonitor, type MonitorEvent, type StateChange } from './index.js';
import { httpSink, smtpSink, type HttpPost, type Mail, type Sink } from './test-sinks.js';

let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
let hooks: Sink<HttpPost>;
let mails: Sink<Mail>;
let configFile: string;
const metrics = new MonitorMetrics();
const events: MonitorEvent[] = [];

/** root owns the whole repository, read-only for others: the archiver (the server's OS user) cannot write. */
function makeUnwritable(dir: string): void {
  chownSync(dir, 0, 0);
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) makeUnwritable(p);
    else chownSync(p, 0, 0);
  }
}

/** The first event (seen already or later) that matches, within timeoutMs. */
async function waitEvent<T extends MonitorEvent>(match: (e: MonitorEvent) => e is T, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = events.find(match);
    if (hit) return hit;
    if (Date.now() > deadline)
      throw new Error(`${what} not seen in ${timeoutMs} ms; changes seen: ${JSON.stringify(events.filter((e) => e.type !== 'round'))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const archiveChange =
  (to: string) =>
  (e: MonitorEvent): e is { type: 'change'; change: StateChange } =>
    e.type === 'change' && e.change.check === 'archive' && e.change.to === to;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-monitor-test-'));
  ({ repoDir, repo, src } = await archivingSource(work, 100));
  await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 1 });
  chownTreeToServerUser(repoDir);
  [hooks, mails] = await Promise.all([httpSink(), smtpSink()]);
  const stateFile = join(work, 'agent-state.json');
  writeFileSync(
    stateFile,
    JSON.stringify({
      version: 1,
      clusters: {
        test: {
          jobs: {
            backup_incremental: {
              nextRunAt: '2099-01-01T01:00:00.000Z',
              running: null,
              lastRun: {
                startedAt: '2026-01-01T00:59:00.000Z',
                endedAt: '2026-01-01T01:00:00.000Z',
                result: 'ok',
                exitCode: 0,
                message: 'x',
                trigger: 'schedule',
              },
            },
          },
          stream: null,
        },
      },
    }),
  );
  configFile = join(work, 'pgkeep.toml');
  writeFileSync(
    configFile,
    `
[repo]
path = "${repoDir}"
[cluster.test]
connection = "${src.connectionString()}"
pgdata = "${src.dataDir}"
[monitor]
interval = "1s"
wal_free_warn = 1
wal_free_critical = 0
state_file = "${stateFile}"
[notify]
webhook = "${hooks.url}/generic"
slack_webhook = "${hooks.url}/slack"
smtp_host = "127.0.0.1"
smtp_port = ${mails.port}
smtp_tls = "none"
from = "pgkeep@test.invalid"
to = "dba@test.invalid"
retries = 1
timeout = "5s"
`,
  );
});

after(async () => {
  await Promise.all([hooks?.close(), mails?.close()]);
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

faultTest(
  'an archiver failing on an unwritable repository raises "archive stalled", notifies, and clears when fixed with nothing lost',
  async () => {
    const config = loadConfig({ config: configFile, cluster: 'test' }, {});
    const log = { info: () => {}, warn: () => {}, error: (m: string) => events.push({ type: 'round-failed', cluster: 'log', error: m }) };
    const monitor = startMonitor({ config, log, onEvent: (e) => events.push(e), metrics, notifyBackoffMs: 100 });
    try {
      const first = await waitEvent((e): e is Extract<MonitorEvent, { type: 'round' }> => e.type === 'round', 30_000, 'a first round');
      assert.equal(first.status.checks.find((c) => c.check === 'archive')!.state, 'OK', JSON.stringify(first.status.checks));

      // The fault: the server's OS user can no longer write into the repository.
      makeUnwritable(repoDir);
      await batch(src, 1000, 100, 'during');
      const [stuck] = await src.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f');
      const raised = await waitEvent(archiveChange('CRITICAL'), 60_000, 'archive CRITICAL');
      assert.match(raised.change.reason, /archive stalled: archive_command failed on/);
      assert.match(raised.change.fix ?? '', /doctor --check-archive/);
      const match = (p: HttpPost, path: string, text: (b: any) => string) =>
        p.path === path && /archive/.test(text(p.body)) && /CRITICAL/.test(text(p.body));
      const generic = await hooks.waitFor((p) => match(p, '/generic', (b) => `${b.check} ${b.to}`), 20_000, 'the generic webhook');
      assert.equal(generic.body.cluster, 'test');
      assert.equal(generic.body.from, 'OK');
      await hooks.waitFor((p) => match(p, '/slack', (b) => b.text), 20_000, 'the Slack webhook');
      const mail = await mails.waitFor((m) => /CRITICAL/.test(m.data) && /archive/.test(m.data), 20_000, 'the e-mail');
      assert.deepEqual(mail.to, ['<dba@test.invalid>']);

      // status as a Nagios plugin, while it fails: CRITICAL is exit 2.
      const failing = await runPgkeep(['--config', configFile, '--cluster', 'test', '--json', 'status']);
      assert.equal(failing.code, 2, failing.stdout + failing.stderr);
      const during = JSON.parse(failing.stdout).clusters[0];
      assert.equal(during.checks.find((c: any) => c.check === 'archive').state, 'CRITICAL');
      // The .ready file of the segment that cannot be archived is counted, and the failure named.
      assert.ok(during.archive.segments >= 1, JSON.stringify(during.archive));
      assert.equal(during.archive.lastFailedWal, stuck!.f);

      // Fixed: the archiver catches up (woken by a new segment), the check returns to OK and says so.
      chownTreeToServerUser(repoDir);
      await batch(src, 2000, 100, 'after');
      const caughtUp = await switchAndWait(src);
      const recovered = await waitEvent(archiveChange('OK'), 60_000, 'archive back to OK');
      assert.equal(recovered.change.from, 'CRITICAL');
      await hooks.waitFor(
        (p) => p.path === '/generic' && p.body.check === 'archive' && p.body.to === 'OK' && p.body.from === 'CRITICAL',
        20_000,
        'the recovery webhook',
      );
      await mails.waitFor((m) => /\[OK\]/.test(m.data) && /recovered/.test(m.data), 20_000, 'the recovery e-mail');

      // Nothing lost: the segment that failed and every one after it are in the repository, without a gap.
      const report = await checkArchive(repo, 'test');
      assert.ok(report.ok, JSON.stringify(report.backups));
      assert.ok(
        report.backups[0]!.lastSegment! >= caughtUp && caughtUp > stuck!.f,
        `${report.backups[0]!.lastSegment} ${stuck!.f} ${caughtUp}`,
      );
    } finally {
      await monitor.stop();
    }

    // status --json and the metrics agree with list and wal check.
    const [status, list, walCheck] = await Promise.all([
      runPgkeep(['--config', configFile, '--cluster', 'test', '--json', 'status']),
      runPgkeep(['--config', configFile, '--cluster', 'test', '--json', 'list']),
      runPgkeep(['--config', configFile, '--cluster', 'test', '--json', 'wal', 'check']),
    ]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const s = JSON.parse(status.stdout).clusters[0];
    const snapshots = JSON.parse(list.stdout).snapshots;
    const windows = JSON.parse(walCheck.stdout).backups;
    assert.equal(s.backups.count, snapshots.length);
    assert.equal(s.backups.newest.id, snapshots[snapshots.length - 1].id);
    assert.equal(s.window.oldest.backup, windows[0].id);
    assert.equal(s.window.newest.lsn, windows[windows.length - 1].to);
    assert.equal(s.jobs.backup_incremental!.nextRun, '2099-01-01T01:00:00.000Z');
    assert.equal(s.archive.segments, 0);
    assert.equal(s.state, 'OK', JSON.stringify(s.checks));

    // The metrics the loop itself updated, as the endpoint serves them.
    const server = await serveMetrics({ port: 0, metrics });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.match(text, /# TYPE pgkeep_archive_lag_seconds gauge/);
      assert.equal(value('pgkeep_backups\\{cluster="test"\\}'), snapshots.length);
      assert.equal(
        value('pgkeep_backup_last_time_seconds\\{cluster="test",kind="physical"\\}'),
        Date.parse(snapshots[snapshots.length - 1].stopTime) / 1000,
      );
      assert.equal(value('pgkeep_backup_last_success\\{cluster="test",kind="physical"\\}'), 1);
      assert.equal(value('pgkeep_check_state\\{cluster="test",check="archive"\\}'), 0);
      assert.equal(value('pgkeep_recoverable_oldest_time_seconds\\{cluster="test"\\}'), Date.parse(s.window.oldest.time) / 1000);
      assert.equal(
        value('pgkeep_job_next_run_time_seconds\\{cluster="test",job="backup_incremental"\\}'),
        Date.parse('2099-01-01T01:00:00.000Z') / 1000,
      );
      assert.ok(value('pgkeep_wal_free_bytes\\{cluster="test"\\}') > 0);
    } finally {
      await server.close();
    }
  },
  { timeout: 240_000 },
);

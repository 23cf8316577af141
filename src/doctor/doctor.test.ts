// doctor against one real cluster, misconfigured in each way in turn (configure + restart or
// reload between tests); each test asserts which check fails and the advice it gives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ClusterSettings } from '../config/types.js';
import { connect } from '../pg/connect.js';
import { pgToolPath } from '../pg/bin.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { runProgram } from '../pg/server-user.js';
import { runDoctor, type DoctorCheck, type DoctorMethod } from './index.js';

const execFileP = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));

let cluster: LocalCluster;
let work: string;
let fakePgkeep: string;
let originalHba: string;

/** A backup-ready configuration; each test breaks one thing and puts it back. */
function healthy(): Record<string, string | number> {
  return {
    wal_level: 'replica', max_wal_senders: 10, max_replication_slots: 10,
    archive_mode: 'on', archive_command: `${fakePgkeep} wal push %p`,
  };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'pgkeep-doctor-test-'));
  chmodSync(work, 0o755);
  // Stands in for an installed pgkeep in archive_command: the server may run it.
  mkdirSync(join(work, 'bin'));
  fakePgkeep = join(work, 'bin', 'pgkeep');
  writeFileSync(fakePgkeep, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  chmodSync(join(work, 'bin'), 0o755);
  cluster = await LocalCluster.create();
  await cluster.configure(healthy());
  await cluster.start();
  originalHba = readFileSync(join(cluster.dataDir, 'pg_hba.conf'), 'utf8');
  await cluster.exec('CREATE ROLE app LOGIN');
});

after(async () => {
  await cluster?.destroy();
  rmSync(work, { recursive: true, force: true });
});

async function doctor(methods: DoctorMethod[], settings: ClusterSettings = cluster.connectionSettings()) {
  const report = await runDoctor(settings, { methods });
  const get = (id: string): DoctorCheck => {
    const c = report.checks.find((x) => x.check === id);
    assert.ok(c, `check ${id} missing; got ${report.checks.map((x) => x.check).join(', ')}`);
    return c;
  };
  return { report, get };
}

function asRole(role: string, pgdata?: string): ClusterSettings {
  return { connection: cluster.connectionString('postgres', role), ...(pgdata ? { pgdata } : {}), pgBin: cluster.binDir };
}

async function reconfigure(settings: Record<string, string | number>): Promise<void> {
  await cluster.configure(settings);
  await cluster.restart();
}

test('a healthy configuration passes every check', async () => {
  const { report, get } = await doctor(['stream', 'local', 'archive', 'logical', 'cold']);
  const notPass = report.checks.filter((c) => c.status !== 'PASS').map((c) => `${c.check}: ${c.status} ${c.message}`);
  // A cold backup needs the server stopped: the only remark on a running, healthy server.
  assert.deepEqual(notPass, [`cluster_state: WARN ${get('cluster_state').message}`]);
  assert.ok(report.ok);
  for (const id of ['reachable', 'version', 'wal_level', 'data_checksums', 'max_wal_senders', 'max_replication_slots',
    'hba_replication', 'role_replication', 'backup_functions', 'read_all_settings', 'pgdata', 'archive_mode',
    'archive_command', 'archiver', 'pg_dump', 'pg_restore']) {
    assert.equal(get(id).status, 'PASS', id);
  }
  assert.match(get('version').message, new RegExp(`PostgreSQL ${cluster.major}`));
  assert.match(get('hba_replication').message, /line \d+: local replication all trust/);
  assert.deepEqual(report.summary.map((s) => [s.method, s.verdict]),
    [['stream', 'ready'], ['local', 'ready'], ['archive', 'ready'], ['logical', 'ready'], ['cold', 'warnings']]);
});

test('wal_level = minimal fails with the postgresql.conf lines and a restart', async () => {
  await reconfigure({ wal_level: 'minimal', max_wal_senders: 0, archive_mode: 'off' });
  try {
    const { report, get } = await doctor(['stream', 'local', 'archive']);
    const w = get('wal_level');
    assert.equal(w.status, 'FAIL');
    assert.equal(w.needs, 'restart');
    assert.match(w.message, /wal_level is minimal/);
    assert.match(w.fix!, /^wal_level = replica$/m);
    assert.match(w.fix!, /^max_wal_senders = 10$/m);
    assert.deepEqual(w.usedBy, ['stream', 'local', 'archive']);
    assert.equal(get('max_wal_senders').status, 'FAIL');
    assert.equal(report.ok, false);
    assert.equal(report.summary.find((s) => s.method === 'stream')!.verdict, 'not ready');
  } finally {
    await reconfigure(healthy());
  }
});

test('max_wal_senders and max_replication_slots without room to spare', async () => {
  await reconfigure({ max_wal_senders: 2, max_replication_slots: 1 });
  const walsender = await connect(cluster.connectionSettings(), { replication: true });
  try {
    await cluster.query("SELECT pg_create_physical_replication_slot('held')");
    let d = await doctor(['stream']);
    assert.equal(d.get('max_wal_senders').status, 'WARN');
    assert.match(d.get('max_wal_senders').message, /max_wal_senders is 2, 1 in use, 1 free/);
    assert.equal(d.get('max_replication_slots').status, 'FAIL');
    assert.match(d.get('max_replication_slots').fix!, /^max_replication_slots = 10$/m);
    assert.equal(d.get('max_replication_slots').needs, 'restart');

    await walsender.end();
    await reconfigure({ max_wal_senders: 1 });
    const again = await connect(cluster.connectionSettings(), { replication: true });
    try {
      d = await doctor(['stream']);
      const s = d.get('max_wal_senders');
      assert.equal(s.status, 'FAIL');
      assert.match(s.message, /max_wal_senders is 1, 1 in use, 0 free/);
      assert.match(s.fix!, /^max_wal_senders = 10$/m);
      assert.equal(s.needs, 'restart');
    } finally {
      await again.end();
    }
  } finally {
    await walsender.end().catch(() => {});
    await cluster.query("SELECT pg_drop_replication_slot('held')");
    await reconfigure(healthy());
  }
});

test('no pg_hba.conf rule for replication: the line to add, for superuser and ordinary role', async () => {
  const hbaFile = join(cluster.dataDir, 'pg_hba.conf');
  writeFileSync(hbaFile, 'local all all trust\nhost all all 127.0.0.1/32 trust\n');
  await cluster.reload();
  try {
    // superuser: the rules are read from pg_hba_file_rules
    let d = await doctor(['stream']);
    let h = d.get('hba_replication');
    assert.equal(h.status, 'FAIL');
    assert.equal(h.needs, 'reload');
    assert.match(h.message, /no pg_hba\.conf rule admits a replication connection for postgres over the unix socket/);
    assert.match(h.fix!, /^local\s+replication\s+postgres\s+peer$/m);

    // over TCP the line names the client's address
    d = await doctor(['stream'], { connection: `host=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres` });
    assert.match(d.get('hba_replication').fix!, /^host\s+replication\s+postgres\s+127\.0\.0\.1\/32\s+scram-sha-256$/m);

    // an ordinary role cannot read the rules: a trial replication connection decides
    d = await doctor(['stream'], asRole('app'));
    h = d.get('hba_replication');
    assert.equal(h.status, 'FAIL');
    assert.match(h.message, /no pg_hba\.conf entry for replication connection/);
    assert.match(h.fix!, /^local\s+replication\s+app\s+peer$/m);
    assert.equal(d.get('role_replication').status, 'FAIL');
  } finally {
    writeFileSync(hbaFile, originalHba);
    await cluster.reload();
  }
});

test('a role without REPLICATION or backup privileges, then with them', async () => {
  let d = await doctor(['stream', 'local'], asRole('app', cluster.dataDir));
  const r = d.get('role_replication');
  assert.equal(r.status, 'FAIL');
  assert.equal(r.fix, 'as a superuser: ALTER ROLE app REPLICATION;');
  assert.equal(r.needs, 'none');
  // pg_hba.conf admits the connection; it is the role that is refused
  assert.equal(d.get('hba_replication').status, 'PASS');
  const f = d.get('backup_functions');
  assert.equal(f.status, 'FAIL');
  assert.match(f.fix!, /^GRANT EXECUTE ON FUNCTION pg_backup_start\(text, boolean\) TO app;$/m);
  assert.match(f.fix!, /^GRANT EXECUTE ON FUNCTION pg_backup_stop\(boolean\) TO app;$/m);
  assert.equal(d.get('read_all_settings').status, 'WARN');
  assert.match(d.get('read_all_settings').fix!, /GRANT pg_read_all_settings TO app;/);
  // without data_directory, pgdata is recognised by its system identifier
  assert.equal(d.get('pgdata').status, 'PASS');
  assert.match(d.get('pgdata').message, /same system identifier/);

  await cluster.exec(`ALTER ROLE app REPLICATION;
    GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean) TO app;
    GRANT EXECUTE ON FUNCTION pg_backup_stop(boolean) TO app;
    GRANT pg_read_all_settings TO app;`);
  try {
    d = await doctor(['stream', 'local'], asRole('app', cluster.dataDir));
    assert.deepEqual(d.report.checks.filter((c) => c.status !== 'PASS').map((c) => c.check), []);
    assert.match(d.get('hba_replication').message, /was admitted/);
    assert.match(d.get('pgdata').message, /is the server's data_directory/);
  } finally {
    await cluster.exec(`ALTER ROLE app NOREPLICATION;
      REVOKE EXECUTE ON FUNCTION pg_backup_start(text, boolean) FROM app;
      REVOKE EXECUTE ON FUNCTION pg_backup_stop(boolean) FROM app;
      REVOKE pg_read_all_settings FROM app;`);
  }
});

test('archive_mode off, an empty, foreign or wrong archive_command', async () => {
  try {
    await reconfigure({ archive_mode: 'off' });
    let d = await doctor(['archive']);
    const m = d.get('archive_mode');
    assert.equal(m.status, 'FAIL');
    assert.match(m.fix!, /^archive_mode = on$/m);
    assert.equal(m.needs, 'restart');
    // archive_command is still read (the server shows "(disabled)" while archive_mode is off)
    assert.equal(d.get('archive_command').status, 'PASS');

    await reconfigure({ archive_mode: 'on', archive_command: '' });
    d = await doctor(['archive']);
    const c = d.get('archive_command');
    assert.equal(c.status, 'FAIL');
    assert.match(c.fix!, /^archive_command = 'pgkeep wal push %p'$/m);
    assert.equal(c.needs, 'reload');

    await cluster.configure({ archive_command: 'cp %p /nonexistent/%f' });
    await cluster.reload();
    d = await doctor(['archive']);
    assert.equal(d.get('archive_command').status, 'WARN');
    assert.match(d.get('archive_command').message, /runs another tool \(cp %p \/nonexistent\/%f\)/);
    assert.match(d.get('archive_command').fix!, /archive_command = 'pgkeep wal push %p'/);

    await cluster.configure({ archive_command: 'pgkeep wal get %f %p' });
    await cluster.reload();
    d = await doctor(['archive']);
    assert.equal(d.get('archive_command').status, 'FAIL');
    assert.match(d.get('archive_command').message, /runs pgkeep but not as "wal push %p"/);
  } finally {
    await reconfigure(healthy());
  }
});

test('data checksums off: the pg_checksums advice, which then works', async () => {
  const pgChecksums = async (mode: string) => {
    await cluster.stop();
    const r = await runProgram(pgToolPath(cluster.binDir, 'pg_checksums'), [mode, '-D', cluster.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    await cluster.start();
  };
  await pgChecksums('--disable');
  try {
    const d = await doctor(['stream']);
    const c = d.get('data_checksums');
    assert.equal(c.status, 'WARN');
    assert.equal(c.needs, 'restart');
    assert.match(c.fix!, new RegExp(`pg_checksums --enable -D ${cluster.dataDir}`));
  } finally {
    await pgChecksums('--enable');
  }
  assert.equal((await doctor(['stream'])).get('data_checksums').status, 'PASS');
});

test('pgdata that is not the server\'s data directory', async () => {
  const withPgdata = (pgdata?: string) => ({ ...cluster.connectionSettings(), pgdata });

  // a directory that looks like a data directory but is not the server's
  const other = join(work, 'other-data');
  mkdirSync(join(other, 'global'), { recursive: true });
  copyFileSync(join(cluster.dataDir, 'PG_VERSION'), join(other, 'PG_VERSION'));
  copyFileSync(join(cluster.dataDir, 'global', 'pg_control'), join(other, 'global', 'pg_control'));
  let d = await doctor(['local'], withPgdata(other));
  let p = d.get('pgdata');
  assert.equal(p.status, 'FAIL');
  assert.match(p.message, new RegExp(`pgdata is ${other}, but the server's data_directory is ${cluster.dataDir}`));
  assert.match(p.fix!, new RegExp(`^pgdata = "${cluster.dataDir}"`));

  d = await doctor(['local'], withPgdata(cluster.baseDir));
  p = d.get('pgdata');
  assert.equal(p.status, 'FAIL');
  assert.match(p.message, /is not a PostgreSQL data directory/);

  d = await doctor(['cold'], withPgdata(join(work, 'missing')));
  assert.equal(d.get('pgdata').status, 'FAIL');
  assert.equal(d.get('pgdata').method, 'cold');
  assert.match(d.get('pgdata').message, /does not exist/);

  // a symlink to the real directory is the same directory
  const link = join(work, 'link-to-data');
  symlinkSync(cluster.dataDir, link);
  assert.equal((await doctor(['local'], withPgdata(link))).get('pgdata').status, 'PASS');

  d = await doctor(['local'], withPgdata(undefined));
  assert.equal(d.get('pgdata').status, 'WARN');
  assert.match(d.get('pgdata').fix!, new RegExp(`pgdata = "${cluster.dataDir}"`));
});

test('cold: clean shutdown passes, a crashed cluster fails, and an unreachable server is reported', async () => {
  try {
    await cluster.stop('fast');
    let d = await doctor(['cold']);
    assert.equal(d.get('reachable').status, 'WARN');
    assert.equal(d.get('cluster_state').status, 'PASS');
    assert.match(d.get('cluster_state').message, /"shut down"/);
    assert.equal(d.get('pgdata').status, 'PASS');
    assert.ok(d.report.ok);

    d = await doctor(['stream']);
    assert.equal(d.get('reachable').status, 'FAIL');
    assert.match(d.get('reachable').fix!, /server running/);
    assert.equal(d.report.checks.length, 1);
    assert.equal(d.report.ok, false);

    await cluster.start();
    await cluster.stop('immediate');
    d = await doctor(['cold']);
    const s = d.get('cluster_state');
    assert.equal(s.status, 'FAIL');
    assert.match(s.message, /"in production" but the server does not answer/);
    assert.match(s.fix!, /pg_ctl start -D .* && pg_ctl stop -D .* -m fast/);
  } finally {
    await cluster.start();
  }
});

test('the CLI prints the checks as JSON and exits 5 when one fails', async () => {
  await reconfigure({ archive_mode: 'off' });
  const env = { ...process.env, HOME: work, PGKEEP_CONNECTION: cluster.connectionString() };
  try {
    const failed = await execFileP(process.execPath, [BIN, '--json', 'doctor', '--method', 'archive'], { env, cwd: work }).catch((e) => e);
    assert.equal(failed.code, 5);
    const data = JSON.parse(failed.stdout);
    const mode = data.checks.find((c: DoctorCheck) => c.check === 'archive_mode');
    assert.deepEqual({ method: mode.method, status: mode.status, needs: mode.needs }, { method: 'archive', status: 'FAIL', needs: 'restart' });
    assert.equal(typeof mode.message, 'string');
    assert.match(mode.fix, /archive_mode = on/);

    const ok = await execFileP(process.execPath, [BIN, 'doctor', '--method', 'logical'], { env, cwd: work });
    assert.match(ok.stdout, /PASS\s+pg_dump\s/);
    assert.match(ok.stdout, /logical\s+ready/);

    const bad = await execFileP(process.execPath, [BIN, 'doctor', '--method', 'nope'], { env, cwd: work }).catch((e) => e);
    assert.equal(bad.code, 2);
  } finally {
    await reconfigure(healthy());
  }
});

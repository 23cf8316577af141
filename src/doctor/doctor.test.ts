// doctor against one real cluster, misconfigured in each way in turn (configure + restart or
// reload between tests); each test asserts which check fails and the advice it gives.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '../pg/connect.js';
import { pgToolPath } from '../pg/bin.js';
import { runProgram, serverOsUser } from '../pg/server-user.js';
import type { DoctorCheck } from './index.js';
import { archiveProbeTests, archiveSettingTests } from './test-doctor-archive.js';
import { dataDirectoryTests } from './test-doctor-data-dir.js';
import {
  asRole,
  asServer,
  BIN,
  cluster,
  doctor,
  execFileP,
  healthy,
  originalHba,
  reconfigure,
  startDoctorCluster,
  stopDoctorCluster,
  until,
  work,
} from './test-doctor-cluster.js';

before(startDoctorCluster);
after(stopDoctorCluster);

test('a healthy configuration passes every check', async () => {
  const { report, get } = await doctor(['stream', 'local', 'archive', 'logical', 'cold']);
  const notPass = report.checks.filter((c) => c.status !== 'PASS').map((c) => `${c.check}: ${c.status} ${c.message}`);
  // A cold backup needs the server stopped: the only remark on a running, healthy server.
  assert.deepEqual(notPass, [`cluster_state: WARN ${get('cluster_state').message}`]);
  assert.ok(report.ok);
  for (const id of [
    'reachable',
    'version',
    'wal_level',
    'data_checksums',
    'max_wal_senders',
    'max_replication_slots',
    'hba_replication',
    'role_replication',
    'backup_functions',
    'read_all_settings',
    'pgdata',
    'archive_mode',
    'archive_command',
    'archive_access',
    'archiver',
    'archive_timeout',
    'pg_dump',
    'pg_restore',
    'read_access',
  ]) {
    assert.equal(get(id).status, 'PASS', id);
  }
  assert.match(get('version').message, new RegExp(`PostgreSQL ${cluster.major}`));
  assert.match(get('hba_replication').message, /line \d+: local replication all trust/);
  assert.deepEqual(
    report.summary.map((s) => [s.method, s.verdict]),
    [
      ['stream', 'ready'],
      ['local', 'ready'],
      ['archive', 'ready'],
      ['logical', 'ready'],
      ['cold', 'warnings'],
    ],
  );
});

test('wal_level = minimal fails with the postgresql.conf lines and a restart', async () => {
  await reconfigure({ wal_level: 'minimal', max_wal_senders: 0, archive_mode: 'off' });
  try {
    const { report, get } = await doctor(['stream', 'local', 'archive']);
    const w = get('wal_level');
    assert.equal(w.status, 'FAIL');
    assert.equal(w.needs, 'restart');
    assert.match(w.message, /wal_level is minimal/);
    assert.match(w.fix!, /^wal_level = replica   # replaces line \d+$/m);
    assert.match(w.fix!, /^max_wal_senders = 10   # replaces line \d+$/m);
    // the real file and the real command for this cluster, not "postgresql.conf" and a placeholder
    // the file that sets it now: a line added to postgresql.conf would be overridden by the include
    assert.match(
      w.fix!,
      new RegExp(
        `^in ${cluster.dataDir}/pgkeep-local\\.conf \\(set there now, overriding ${cluster.dataDir}/postgresql\\.conf\\):\\nwal_level = replica   # replaces line \\d+$`,
        'm',
      ),
    );
    assert.match(
      w.fix!,
      new RegExp(`then restart the server: ${asServer}${cluster.binDir}/pg_ctl restart -D ${cluster.dataDir} -m fast$`, 'm'),
    );
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
    assert.match(d.get('max_replication_slots').fix!, /^max_replication_slots = 10   # replaces line \d+$/m);
    assert.equal(d.get('max_replication_slots').needs, 'restart');

    await walsender.end();
    await reconfigure({ max_wal_senders: 1 });
    const again = await connect(cluster.connectionSettings(), { replication: true });
    try {
      d = await doctor(['stream']);
      const s = d.get('max_wal_senders');
      assert.equal(s.status, 'FAIL');
      assert.match(s.message, /max_wal_senders is 1, 1 in use, 0 free/);
      assert.match(s.fix!, /^max_wal_senders = 10   # replaces line \d+$/m);
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
    assert.match(h.fix!, new RegExp(`^add to ${cluster.dataDir}/pg_hba\\.conf, before`));
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
    assert.deepEqual(
      d.report.checks.filter((c) => c.status !== 'PASS').map((c) => c.check),
      [],
    );
    assert.match(d.get('hba_replication').message, /was admitted/);
    assert.match(d.get('pgdata').message, /is the server's data_directory/);
  } finally {
    await cluster.exec(`ALTER ROLE app NOREPLICATION;
      REVOKE EXECUTE ON FUNCTION pg_backup_start(text, boolean) FROM app;
      REVOKE EXECUTE ON FUNCTION pg_backup_stop(boolean) FROM app;
      REVOKE pg_read_all_settings FROM app;`);
  }
});

archiveSettingTests();

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

dataDirectoryTests();

test('the CLI prints the checks as JSON and exits 5 when one fails', async () => {
  await reconfigure({ archive_mode: 'off' });
  const env = { ...process.env, HOME: work, PGKEEP_CONNECTION: cluster.connectionString() };
  try {
    const failed = await execFileP(process.execPath, [BIN, '--json', 'doctor', '--method', 'archive'], { env, cwd: work }).catch((e) => e);
    assert.equal(failed.code, 5);
    const data = JSON.parse(failed.stdout);
    const mode = data.checks.find((c: DoctorCheck) => c.check === 'archive_mode');
    assert.deepEqual(
      { method: mode.method, status: mode.status, needs: mode.needs },
      { method: 'archive', status: 'FAIL', needs: 'restart' },
    );
    assert.equal(typeof mode.message, 'string');
    assert.match(mode.fix, /archive_mode = on/);

    const ok = await execFileP(process.execPath, [BIN, 'doctor', '--method', 'logical'], { env, cwd: work });
    assert.match(ok.stdout, /PASS\s+pg_dump\s/);
    assert.match(ok.stdout, /logical\s+ready/);

    const bad = await execFileP(process.execPath, [BIN, 'doctor', '--method', 'nope'], { env, cwd: work }).catch((e) => e);
    assert.equal(bad.code, 2);
    const notArchive = await execFileP(process.execPath, [BIN, 'doctor', '--method', 'stream', '--check-archive'], {
      env,
      cwd: work,
    }).catch((e) => e);
    assert.equal(notArchive.code, 2);
    assert.match(notArchive.stderr, /--check-archive checks archiving, not --method stream/);
    const noTimeout = await execFileP(process.execPath, [BIN, 'doctor', '--method', 'archive', '--check-archive', '--timeout', 'soon'], {
      env,
      cwd: work,
    }).catch((e) => e);
    assert.equal(noTimeout.code, 2);
    assert.match(noTimeout.stderr, /--timeout soon is not a positive number of seconds/);
  } finally {
    await reconfigure(healthy());
  }
});

archiveProbeTests();

test('logical: a role pg_dump would refuse FAILs read_access; pg_read_all_data makes it and pg_dump pass', async () => {
  await cluster.exec('CREATE TABLE payroll (id int); CREATE TABLE public_notes (id int); GRANT SELECT ON public_notes TO app;');
  const pgDump = () =>
    runProgram(pgToolPath(cluster.binDir, 'pg_dump'), ['-d', cluster.connectionString('postgres', 'app'), '-f', '/dev/null'], {
      asServerUser: false,
    });
  try {
    let d = await doctor(['logical'], asRole('app'));
    const r = d.get('read_access');
    assert.equal(r.status, 'FAIL');
    assert.match(r.message, /app may not read 1 table or sequence in database postgres \(public\.payroll\)/);
    assert.equal(r.fix, 'as a superuser: GRANT pg_read_all_data TO app;   (every table, every database, present and future)');
    const refused = await pgDump();
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /permission denied for table payroll/);

    await cluster.exec('GRANT pg_read_all_data TO app');
    d = await doctor(['logical'], asRole('app'));
    assert.equal(d.get('read_access').status, 'PASS');
    assert.match(d.get('read_access').message, /has pg_read_all_data/);
    assert.equal((await pgDump()).code, 0);
  } finally {
    await cluster.exec('REVOKE pg_read_all_data FROM app; DROP TABLE payroll, public_notes;');
  }
});

test('peer authentication as root: the running server is not called crashed, and the fix names the real ways in', async (t) => {
  const user = serverOsUser();
  if (!user) return t.skip('needs root (peer authentication of another OS user)');
  const hbaFile = join(cluster.dataDir, 'pg_hba.conf');
  // Reloaded and confirmed over TCP (the harness's own socket connections are refused by peer too).
  const tcp = { connection: `host=127.0.0.1 port=${cluster.port} user=postgres dbname=postgres` };
  const reloadTo = async (text: string) => {
    const loadTime = async () => {
      const c = await connect(tcp);
      try {
        return String((await c.query('SELECT pg_conf_load_time()::text AS t')).rows[0].t);
      } finally {
        await c.end();
      }
    };
    const before = await loadTime();
    writeFileSync(hbaFile, text);
    const r = await runProgram(pgToolPath(cluster.binDir, 'pg_ctl'), ['reload', '-D', cluster.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    await until('the reload took effect', 10_000, async () => (await loadTime()) !== before);
  };
  await reloadTo('local all all peer\nhost all all 127.0.0.1/32 trust\n');
  try {
    const d = await doctor(['cold', 'local'], { connection: cluster.connectionString(), pgdata: cluster.dataDir, pgBin: cluster.binDir });
    const r = d.get('reachable');
    assert.equal(r.status, 'FAIL');
    assert.match(r.message, /Peer authentication failed for user "postgres"/);
    assert.match(r.fix!, /run pgkeep as that OS user: sudo -u postgres pgkeep/);
    assert.match(r.fix!, /~\/\.pgpass/);
    assert.match(r.fix!, new RegExp(`"pgkeep   root   postgres" and "pgkeep   postgres   postgres" to ${cluster.dataDir}/pg_ident\\.conf`));
    assert.match(r.fix!, new RegExp(`"map=pgkeep" to the peer line of ${cluster.dataDir}/pg_hba\\.conf`));
    assert.doesNotMatch(r.fix!, /see the server log/);
    const s = d.get('cluster_state');
    assert.equal(s.status, 'WARN', s.message);
    assert.match(s.message, /a server is running on it \(postmaster\.pid: pid \d+, pg_isready: accepting\)/);
    assert.match(
      s.fix!,
      new RegExp(`^stop it before a cold backup: ${asServer}${cluster.binDir}/pg_ctl stop -D ${cluster.dataDir} -m fast`),
    );
  } finally {
    await reloadTo(originalHba);
  }
});

/**
 * doctor.test.ts's archive checks, on its cluster (test-doctor-cluster.ts): archive_mode and
 * archive_command as configured, then the archiving proved end to end (--check-archive), a
 * repository the server's OS user cannot use, and `wal stream --slot` instead of archive_mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverOsUser } from '../pg/server-user.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { faultTest } from '../test-support/faults.js';
import { BIN, cluster, doctor, execFileP, healthy, pgkeepCommand, reconfigure, repoDir, until, work } from './test-doctor-cluster.js';

/** archive_mode and archive_command as postgresql.conf says. */
export function archiveSettingTests(): void {
  test('archive_mode off, an empty, foreign or wrong archive_command', async () => {
    try {
      await reconfigure({ archive_mode: 'off' });
      let d = await doctor(['archive']);
      const m = d.get('archive_mode');
      assert.equal(m.status, 'FAIL');
      assert.match(m.fix!, /^archive_mode = on   # replaces line \d+$/m);
      assert.equal(m.needs, 'restart');
      // archive_command is still read (the server shows "(disabled)" while archive_mode is off)
      assert.equal(d.get('archive_command').status, 'PASS');

      await reconfigure({ archive_mode: 'on', archive_command: '' });
      d = await doctor(['archive']);
      const c = d.get('archive_command');
      assert.equal(c.status, 'FAIL');
      assert.match(c.fix!, /^archive_command = 'pgkeep wal push %p'   # replaces line \d+$/m);
      assert.equal(c.needs, 'reload');

      await cluster.configure({ archive_command: 'cp %p /nonexistent/%f' });
      await cluster.reload();
      d = await doctor(['archive']);
      assert.equal(d.get('archive_command').status, 'WARN');
      assert.match(d.get('archive_command').message, /runs another tool \(cp %p \/nonexistent\/%f\)/);
      assert.match(d.get('archive_command').fix!, /archive_command = 'pgkeep wal push %p'/);

      // archive_timeout = 0: a quiet server's last changes are not archived until the segment fills
      await cluster.configure({ archive_command: pgkeepCommand(`--repo ${repoDir}`), archive_timeout: 0 });
      await cluster.reload();
      d = await doctor(['archive']);
      const t = d.get('archive_timeout');
      assert.equal(t.status, 'WARN');
      assert.match(t.fix!, /^archive_timeout = 60 .*; replaces line \d+$/m);
      assert.match(t.fix!, new RegExp(`^in ${cluster.dataDir}/pgkeep-local\\.conf \\(set there now, overriding`));
      assert.equal(t.needs, 'reload');
      // set by ALTER SYSTEM: the fix is ALTER SYSTEM too (postgresql.conf would be overridden)
      await cluster.exec('ALTER SYSTEM SET archive_timeout = 0');
      await cluster.reload();
      try {
        d = await doctor(['archive']);
        assert.match(
          d.get('archive_timeout').fix!,
          /^in SQL, as a superuser \(it is set by ALTER SYSTEM.*\nALTER SYSTEM SET archive_timeout = 60;\nthen reload/,
        );
      } finally {
        await cluster.exec('ALTER SYSTEM RESET archive_timeout');
      }

      // archive_command names a config file that is not there: every wal push would fail
      await cluster.configure({ archive_command: pgkeepCommand(`--config ${join(work, 'missing.toml')}`) });
      await cluster.reload();
      d = await doctor(['archive']);
      assert.equal(d.get('archive_access').status, 'FAIL');
      assert.match(
        d.get('archive_access').message,
        new RegExp(`cannot be loaded: config file ${join(work, 'missing.toml')} \\(from --config\\) does not exist`),
      );

      await cluster.configure({ archive_command: 'pgkeep wal get %f %p' });
      await cluster.reload();
      d = await doctor(['archive']);
      assert.equal(d.get('archive_command').status, 'FAIL');
      assert.match(d.get('archive_command').message, /runs pgkeep but not as "wal push %p"/);
    } finally {
      await reconfigure(healthy());
    }
  });
}

/** Archiving as the server really does it: --check-archive, permissions, a streaming slot. */
export function archiveProbeTests(): void {
  faultTest(
    'archive: a repository and passphrase file only root can use FAIL as the server user; failing archiving FAILs; --check-archive proves the fix',
    async () => {
      const user = serverOsUser();
      if (!user) return; // needs root to make files the server's OS user cannot read
      // As a DBA would: repo init as root (mode 0700), passphrase file root-only, a config naming both.
      const rootRepo = join(work, 'root-repo');
      mkdirSync(rootRepo, { mode: 0o700 });
      await (await newPosixRepo(rootRepo, { passphrase: 'correct horse' })).close();
      chmodSync(rootRepo, 0o700);
      const passFile = join(work, 'passphrase');
      writeFileSync(passFile, 'correct horse\n', { mode: 0o600 });
      const config = join(work, 'archive.toml');
      writeFileSync(config, `[repo]\npath = "${rootRepo}"\npassphrase_file = "${passFile}"\n`, { mode: 0o644 });
      await cluster.configure({ archive_command: pgkeepCommand(`--config ${config}`) });
      await cluster.reload();
      try {
        let d = await doctor(['archive']);
        const a = d.get('archive_access');
        assert.equal(a.status, 'FAIL');
        assert.match(a.message, /archive_command runs as postgres, which cannot write/);
        assert.match(a.message, new RegExp(`repository ${rootRepo}: EACCES \\(owner root, mode 0700\\)`));
        assert.match(a.message, new RegExp(`passphrase file ${passFile}: EACCES \\(owner root, mode 0600\\)`));
        assert.match(a.fix!, new RegExp(`^chown -R postgres: ${rootRepo} `, 'm'));
        assert.match(a.fix!, new RegExp(`^chown postgres: ${passFile} && chmod 0600 ${passFile} `, 'm'));
        assert.equal(d.report.summary[0]!.verdict, 'not ready');

        // The archiver now fails for real: that is a FAIL, not a warning.
        const [switched] = await cluster.query<{ f: string }>('SELECT txid_current(), pg_walfile_name(pg_switch_wal()) AS f');
        const f = switched!.f;
        await until(
          'the archiver reports a failure',
          30_000,
          async () => (await cluster.query<{ n: number }>('SELECT failed_count::int AS n FROM pg_stat_archiver'))[0]!.n > 0,
        );
        d = await doctor(['archive'], undefined, { checkArchive: true, archiveTimeoutMs: 3000 });
        const ar = d.get('archiver');
        assert.equal(ar.status, 'FAIL');
        assert.match(ar.message, new RegExp(`archiving is failing: \\d+ failures .* the last for ${f!.slice(0, 16)}`));
        // the end-to-end check gives up within its bound, with the archiver's and the log's words
        const rt = d.get('archive_roundtrip');
        assert.equal(rt.status, 'FAIL');
        assert.match(rt.message, /did not reach the repository within 3s/);
        assert.match(rt.message, /pg_stat_archiver: last failed [0-9A-F]{24} at /);
        assert.match(rt.message, new RegExp(`the server log \\(${cluster.logFile}\\) says:`));
        assert.match(rt.message, /archive command failed with exit code/);

        // The fix doctor gave, applied: now the server's OS user can archive, end to end.
        await execFileP('chown', ['-R', `${user.name}:`, rootRepo]);
        await execFileP('chown', [`${user.name}:`, passFile]);
        d = await doctor(['archive'], undefined, { checkArchive: true, archiveTimeoutMs: 60_000 });
        assert.equal(d.get('archive_access').status, 'PASS');
        const ok = d.get('archive_roundtrip');
        assert.equal(ok.status, 'PASS', ok.message);
        assert.match(ok.message, /^switched to a new WAL segment: [0-9A-F]{24} was stored in the repository after/);
        assert.equal(statSync(rootRepo).uid, user.uid);
      } finally {
        await reconfigure(healthy());
      }
    },
  );

  test('archive: --check-archive on the healthy set-up finds the segment durable in the repository', async () => {
    const d = await doctor(['archive'], undefined, { checkArchive: true, archiveTimeoutMs: 60_000 });
    const rt = d.get('archive_roundtrip');
    assert.equal(rt.status, 'PASS', rt.message);
    assert.match(rt.message, /\(wal\//);
    assert.ok(d.report.ok, JSON.stringify(d.report.checks.filter((c) => c.status === 'FAIL')));
  });

  test('archive via `wal stream --slot` instead of archive_mode is valid; an inactive slot holding WAL FAILs with the fix', async () => {
    await reconfigure({ archive_mode: 'off', max_wal_size: '32MB' });
    const user = serverOsUser();
    // The streamer runs as the repository's owner, as a DBA would run it as a service.
    const stream = spawn(
      process.execPath,
      [
        BIN,
        '--repo',
        repoDir,
        '--cluster',
        'main',
        'wal',
        'stream',
        '--slot',
        'doctor_slot',
        '--create-slot',
        '--from-current',
        '--status-interval',
        '1',
      ],
      {
        env: { ...process.env, HOME: work, PGKEEP_CONNECTION: cluster.connectionString() },
        cwd: work,
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      },
    );
    let stderr = '';
    stream.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    try {
      await until(
        `the stream's slot is active (${stderr})`,
        30_000,
        async () =>
          (await cluster.query<{ a: boolean }>("SELECT active AS a FROM pg_replication_slots WHERE slot_name = 'doctor_slot'"))[0]?.a ===
          true,
      );
      let d = await doctor(['archive']);
      const m = d.get('archive_mode');
      assert.equal(m.status, 'PASS', m.message);
      assert.match(m.message, /streamed through the active physical replication slot doctor_slot/);
      assert.equal(d.get('replication_slots').status, 'PASS');
      assert.match(d.get('replication_slots').message, /doctor_slot \(physical, active/);
      assert.deepEqual(
        d.report.summary.map((x) => x.verdict),
        ['ready'],
      );
      // end to end: the switched segment reaches the repository through the stream
      d = await doctor(['archive'], undefined, { checkArchive: true, archiveTimeoutMs: 60_000 });
      assert.equal(d.get('archive_roundtrip').status, 'PASS', d.get('archive_roundtrip').message);

      // The streamer stops: the slot keeps WAL, without bound (max_slot_wal_keep_size = -1).
      stream.kill('SIGTERM');
      await new Promise((r) => stream.once('exit', r));
      await until(
        'the slot is inactive',
        10_000,
        async () =>
          (await cluster.query<{ a: boolean }>("SELECT active AS a FROM pg_replication_slots WHERE slot_name = 'doctor_slot'"))[0]?.a ===
          false,
      );
      d = await doctor(['archive'], undefined, { checkArchive: true, archiveTimeoutMs: 60_000 });
      assert.match(d.get('archive_roundtrip').message, /could not run: archive_mode is off and no replication slot is streaming WAL/);
      let s = d.get('replication_slots');
      assert.equal(s.status, 'WARN', s.message);
      assert.match(s.message, /inactive replication slot doctor_slot .*max_slot_wal_keep_size = -1 \(no limit\)/);
      assert.match(s.fix!, /pgkeep wal stream --slot doctor_slot/);
      assert.match(s.fix!, /SELECT pg_drop_replication_slot\('doctor_slot'\);/);
      assert.match(s.fix!, new RegExp(`in ${cluster.dataDir}/postgresql\\.conf:\\nmax_slot_wal_keep_size = 10GB`));

      // WAL piles up behind it, more than max_wal_size: that is how pg_wal fills.
      for (let i = 0; i < 3; i++) await cluster.query('SELECT txid_current(), pg_switch_wal()');
      d = await doctor(['archive', 'stream']);
      s = d.get('replication_slots');
      assert.equal(s.status, 'FAIL', s.message);
      assert.match(s.message, /inactive replication slot doctor_slot \(physical, inactive, holds [\d.]+ MB of WAL/);
      assert.match(s.message, /pg_wal grows until its disk is full/);
      assert.equal(s.needs, 'reload');
      assert.equal(d.report.summary.find((x) => x.method === 'archive')!.verdict, 'not ready');
    } finally {
      if (stream.exitCode === null) stream.kill('SIGKILL');
      await cluster.query("SELECT pg_drop_replication_slot('doctor_slot') FROM pg_replication_slots WHERE slot_name = 'doctor_slot'");
      await reconfigure({ ...healthy(), max_wal_size: '1GB' });
    }
  });
}

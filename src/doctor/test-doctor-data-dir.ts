/**
 * doctor.test.ts's data-directory checks, on its cluster (test-doctor-cluster.ts): pgdata that is
 * not the server's, and the cold method's cluster state (clean, crashed, a stale postmaster.pid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asServer, cluster, doctor, work } from './test-doctor-cluster.js';

/** pgdata and the cold method's cluster_state. */
export function dataDirectoryTests(): void {
  test("pgdata that is not the server's data directory", async () => {
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
      assert.match(s.message, /"in production" but no server runs on it \(no postmaster\.pid\)/);
      assert.match(
        s.fix!,
        new RegExp(
          `${asServer}${cluster.binDir}/pg_ctl start -D ${cluster.dataDir} -w && ${asServer}${cluster.binDir}/pg_ctl stop -D ${cluster.dataDir} -m fast`,
        ),
      );

      // a stale postmaster.pid whose pid another program has now (crash, then reboot): still crashed
      const pidFile = join(cluster.dataDir, 'postmaster.pid');
      writeFileSync(pidFile, `${process.pid}\n${cluster.dataDir}\n`);
      try {
        d = await doctor(['cold']);
        assert.equal(d.get('cluster_state').status, 'FAIL');
        assert.match(
          d.get('cluster_state').message,
          new RegExp(`postmaster\\.pid is stale: pid ${process.pid} is not a running PostgreSQL server`),
        );
      } finally {
        rmSync(pidFile);
      }
    } finally {
      await cluster.start();
    }
  });
}

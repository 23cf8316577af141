import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  debianClusterFromPaths,
  debianClusterOf,
  debianClusterOwning,
  debianClusters,
  debianConfigDir,
  debianConfigFiles,
  debianCtl,
  debianDefaultDataDir,
  debianUnit,
  type DebianCluster,
} from './debian-layout.js';

const main15: DebianCluster = {
  major: '15',
  name: 'main',
  configDir: '/etc/postgresql/15/main',
  dataDirectory: '/var/lib/postgresql/15/main',
};

test('where a Debian cluster lives and how it is driven', () => {
  const c = { major: '16', name: 'reports' };
  assert.equal(debianConfigDir(c), '/etc/postgresql/16/reports');
  assert.equal(debianConfigDir(c, '/tmp/etc'), '/tmp/etc/16/reports');
  assert.equal(debianDefaultDataDir(c), '/var/lib/postgresql/16/reports');
  assert.equal(debianUnit(c), 'postgresql@16-reports');
  assert.equal(debianCtl(c, 'reload'), 'pg_ctlcluster 16 reports reload');
});

test("a running server's Debian cluster, from the paths it reports", () => {
  assert.deepEqual(
    debianClusterFromPaths({ dataDirectory: '/srv/x', configFile: '/etc/postgresql/16/reports/postgresql.conf', major: 16 }),
    { major: '16', name: 'reports' },
  );
  assert.deepEqual(debianClusterFromPaths({ dataDirectory: '/var/lib/postgresql/15/main/', major: 15 }), { major: '15', name: 'main' });
  assert.equal(
    debianClusterFromPaths({
      dataDirectory: '/var/lib/postgresql/15/main',
      configFile: '/var/lib/postgresql/15/main/postgresql.conf',
      major: 15,
    }),
    undefined,
  );
  assert.equal(debianClusterFromPaths({ dataDirectory: '/var/lib/postgresql/14/main', major: 15 }), undefined);
});

test('which Debian cluster owns a data directory: by data_directory (through symlinks), else the default /var/lib/postgresql/<major>/<name>', async () => {
  assert.equal(debianClusterOf('/var/lib/postgresql/15/main/', [main15]), main15);
  assert.equal(debianClusterOf('/srv/restore', [main15]), undefined);
  const root = mkdtempSync(join(tmpdir(), 'pgkeep-etc-postgresql-'));
  try {
    const data = join(root, 'data-of-16-other');
    mkdirSync(data);
    mkdirSync(join(root, '15', 'main'), { recursive: true });
    writeFileSync(join(root, '15', 'main', 'postgresql.conf'), 'port = 5432\n');
    mkdirSync(join(root, '16', 'other'), { recursive: true });
    writeFileSync(join(root, '16', 'other', 'postgresql.conf'), `data_directory = '${data}'\t# set by pg_createcluster\n`);
    mkdirSync(join(root, '16', 'no-conf'), { recursive: true });
    const found = await debianClusters(root);
    assert.deepEqual(found.map((c) => [c.major, c.name, c.dataDirectory]).sort(), [
      ['15', 'main', '/var/lib/postgresql/15/main'],
      ['16', 'other', data],
    ]);
    const other = found.find((c) => c.name === 'other');
    assert.deepEqual(await debianClusterOwning(data, root), other);
    const link = join(root, 'link-to-data');
    symlinkSync(data, link);
    assert.deepEqual(await debianClusterOwning(link, root), other, 'a symlink to the data directory is the same cluster');
    assert.equal(await debianClusterOwning(join(root, 'elsewhere'), root), undefined);
    assert.equal(await debianClusterOwning(data, join(root, 'missing')), undefined);
    // its configuration files: pg_hba.conf beside postgresql.conf, pg_ident.conf where ident_file says
    writeFileSync(join(root, '16', 'other', 'postgresql.conf'), `data_directory = '${data}'\nident_file = '/srv/ident.conf'\n`);
    assert.deepEqual(await debianConfigFiles(other!), {
      configFile: join(root, '16', 'other', 'postgresql.conf'),
      hbaFile: join(root, '16', 'other', 'pg_hba.conf'),
      identFile: '/srv/ident.conf',
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianClusterOf, debianClusters, restoredLayout, startCommand, type DebianCluster } from './start-command.js';

const main15: DebianCluster = { major: '15', name: 'main', configDir: '/etc/postgresql/15/main', dataDirectory: '/var/lib/postgresql/15/main' };

test('Debian: a restore into an existing cluster\'s data directory starts with pg_ctlcluster, root or not', () => {
  const layout = { kind: 'debian' as const, cluster: main15 };
  assert.equal(startCommand({ dataDir: '/var/lib/postgresql/15/main', layout, pgCtl: '/usr/lib/postgresql/15/bin/pg_ctl' }), 'pg_ctlcluster 15 main start');
  assert.equal(startCommand({ dataDir: '/var/lib/postgresql/15/main', layout, pgCtl: 'pg_ctl', runAs: 'postgres' }), 'pg_ctlcluster 15 main start');
});

test('elsewhere: pg_ctl of the right major with -D, run as the data directory\'s owner from root', () => {
  const layout = { kind: 'plain' as const };
  assert.equal(startCommand({ dataDir: '/srv/pg', layout, pgCtl: '/usr/lib/postgresql/15/bin/pg_ctl' }), '/usr/lib/postgresql/15/bin/pg_ctl start -D /srv/pg');
  assert.equal(startCommand({ dataDir: '/srv/my pg', layout, pgCtl: '/usr/lib/postgresql/15/bin/pg_ctl', runAs: 'postgres' }),
    "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl start -D '/srv/my pg'");
});

test('which Debian cluster owns a data directory: by data_directory, else the default /var/lib/postgresql/<major>/<name>', async () => {
  assert.equal(debianClusterOf('/var/lib/postgresql/15/main/', [main15]), main15);
  assert.equal(debianClusterOf('/srv/restore', [main15]), undefined);
  const root = mkdtempSync(join(tmpdir(), 'pgkeep-etc-postgresql-'));
  try {
    const data = join(root, 'data-of-16-other');
    mkdirSync(data);
    mkdirSync(join(root, '15', 'main'), { recursive: true });
    writeFileSync(join(root, '15', 'main', 'postgresql.conf'), "port = 5432\n");
    mkdirSync(join(root, '16', 'other'), { recursive: true });
    writeFileSync(join(root, '16', 'other', 'postgresql.conf'), `data_directory = '${data}'\t# set by pg_createcluster\n`);
    mkdirSync(join(root, '16', 'no-conf'), { recursive: true });
    const found = await debianClusters(root);
    assert.deepEqual(found.map((c) => [c.major, c.name, c.dataDirectory]).sort(), [
      ['15', 'main', '/var/lib/postgresql/15/main'], ['16', 'other', data],
    ]);
    assert.deepEqual(await restoredLayout(data, root), { kind: 'debian', cluster: found.find((c) => c.name === 'other') });
    assert.deepEqual(await restoredLayout(join(root, 'elsewhere'), root), { kind: 'plain' });
    assert.deepEqual(await restoredLayout(data, join(root, 'missing')), { kind: 'plain' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

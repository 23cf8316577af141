import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLayout } from './layout.js';

test('a Debian cluster: config in /etc/postgresql, pg_ctlcluster commands, the systemd unit', () => {
  const l = clusterLayout({
    dataDirectory: '/var/lib/postgresql/15/main',
    configFile: '/etc/postgresql/15/main/postgresql.conf',
    hbaFile: '/etc/postgresql/15/main/pg_hba.conf',
    major: 15,
  });
  assert.equal(l.kind, 'debian');
  assert.deepEqual(l.debian, { version: '15', name: 'main', unit: 'postgresql@15-main' });
  assert.equal(l.configFile, '/etc/postgresql/15/main/postgresql.conf');
  assert.equal(l.hbaFile, '/etc/postgresql/15/main/pg_hba.conf');
  assert.equal(l.identFile, '/etc/postgresql/15/main/pg_ident.conf');
  assert.deepEqual(l.commands, {
    start: 'pg_ctlcluster 15 main start',
    stop: 'pg_ctlcluster 15 main stop',
    reload: 'pg_ctlcluster 15 main reload',
    restart: 'pg_ctlcluster 15 main restart',
  });
});

test('Debian with the data directory moved elsewhere is still Debian (the config path decides)', () => {
  const l = clusterLayout({ dataDirectory: '/srv/pg/data', configFile: '/etc/postgresql/16/reports/postgresql.conf', major: 16 });
  assert.equal(l.kind, 'debian');
  assert.equal(l.commands.restart, 'pg_ctlcluster 16 reports restart');
  assert.equal(l.hbaFile, '/etc/postgresql/16/reports/pg_hba.conf');
});

test('config_file not visible: the Debian data directory decides', () => {
  const l = clusterLayout({ dataDirectory: '/var/lib/postgresql/15/main/', major: 15 });
  assert.equal(l.kind, 'debian');
  assert.equal(l.configFile, '/etc/postgresql/15/main/postgresql.conf');
  assert.equal(l.dataDirectory, '/var/lib/postgresql/15/main');
});

test('a plain cluster: files in the data directory, pg_ctl -D commands (quoted when needed)', () => {
  let l = clusterLayout({
    dataDirectory: '/tmp/x/data',
    configFile: '/tmp/x/data/postgresql.conf',
    hbaFile: '/tmp/x/data/pg_hba.conf',
    major: 15,
  });
  assert.equal(l.kind, 'plain');
  assert.equal(l.debian, undefined);
  assert.equal(l.identFile, '/tmp/x/data/pg_ident.conf');
  assert.deepEqual(l.commands, {
    start: 'pg_ctl start -D /tmp/x/data -w',
    stop: 'pg_ctl stop -D /tmp/x/data -m fast',
    reload: 'pg_ctl reload -D /tmp/x/data',
    restart: 'pg_ctl restart -D /tmp/x/data -m fast',
  });
  // /var/lib/postgresql data with its config inside it (initdb by hand): not Debian-managed
  l = clusterLayout({ dataDirectory: '/var/lib/postgresql/15/main', configFile: '/var/lib/postgresql/15/main/postgresql.conf', major: 15 });
  assert.equal(l.kind, 'plain');
  // a version directory that is not the server's major: not this cluster's Debian layout
  l = clusterLayout({ dataDirectory: '/var/lib/postgresql/14/main', major: 15 });
  assert.equal(l.kind, 'plain');
  l = clusterLayout({ dataDirectory: '/srv/data', major: 15, binDir: '/usr/lib/postgresql/15/bin/' });
  assert.equal(l.commands.restart, '/usr/lib/postgresql/15/bin/pg_ctl restart -D /srv/data -m fast');
  l = clusterLayout({ dataDirectory: "/data/it's here", major: 15 });
  assert.equal(l.commands.stop, `pg_ctl stop -D '/data/it'\\''s here' -m fast`);
  assert.equal(l.configFile, "/data/it's here/postgresql.conf");
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderRestore } from './commands/restore.js';
import type { RestoreResult } from '../restore/index.js';

const base: RestoreResult = {
  snapshotId: '20261205T040000Z-abcd',
  cluster: 'main',
  method: 'stream',
  standalone: false,
  serverVersion: '15.8',
  dataDir: '/srv/pg',
  delta: true,
  tablespaces: [],
  removed: ['postmaster.pid'],
  stats: {
    entries: 10,
    files: 8,
    bytes: 1000,
    filesWritten: 1,
    filesUnchanged: 7,
    chunksWritten: 1,
    chunksUnchanged: 9,
    bytesWritten: 100,
    filesRemoved: 1,
    directoriesCreated: 0,
    symlinksCreated: 0,
  },
  recovery: { mode: 'archive-recovery', signal: 'recovery.signal', settings: {} },
  archiving: { option: 'off', configFile: '/srv/pg/postgresql.conf', known: true },
  startCommand: 'pg_ctl start -D /srv/pg',
  seconds: 1,
  throughput: 1000,
  warnings: [],
};

test('the text result says which WAL was kept and where, and who may connect to a started copy', () => {
  const text = renderRestore({
    ...base,
    unarchivedWal: {
      savedTo: '/srv/pg.unarchived-wal-20261205T040000Z',
      files: [{ name: '000000010000000000000003', archive: 'missing', keptInPgWal: true }],
    },
    started: {
      dataDir: '/srv/pg',
      port: 5499,
      socketDir: '/tmp/pgkeep-cluster-x/socket',
      listen: '',
      logFile: '/tmp/l',
      hba: { file: '/srv/pg/pg_hba.conf', action: 'written', lines: ['local all all trust'] },
      connection: 'host=/tmp/pgkeep-cluster-x/socket port=5499 dbname=postgres',
      stopCommand: 'pg_ctl stop',
    },
  });
  assert.match(text, /kept 000000010000000000000003 \(not in the archive\): left in pg_wal, copied to \/srv\/pg\.unarchived-wal-/);
  assert.match(text, /listening on no TCP address: only the unix socket in \/tmp\/pgkeep-cluster-x\/socket \(mode 0700/);
  assert.match(text, /pg_hba\.conf: written by pgkeep \(the backup had none\):\n {4}local all all trust/);
  const tcp = renderRestore({
    ...base,
    started: {
      dataDir: '/srv/pg',
      port: 5499,
      socketDir: '/s',
      listen: '127.0.0.1',
      logFile: '/tmp/l',
      hba: { file: '/srv/pg/pg_hba.conf', action: 'hardened', lines: ['host all all 127.0.0.1/32 scram-sha-256'] },
      connection: 'host=/s port=5499 dbname=postgres',
      tcpConnection: 'host=127.0.0.1 port=5499 dbname=postgres',
      stopCommand: 'pg_ctl stop',
    },
  });
  assert.match(
    tcp,
    /listening on TCP 127\.0\.0\.1, port 5499 \(password authentication: the roles keep the passwords they had in production\)/,
  );
  assert.match(tcp, /host=127\.0\.0\.1 port=5499 dbname=postgres user=<role>/);
  assert.match(tcp, /host lines that said trust changed to scram-sha-256:\n {4}host all all 127\.0\.0\.1\/32 scram-sha-256/);
});

test('archiving is told from the configuration really used: set where, or unknown when the data directory has no postgresql.conf', () => {
  const on = renderRestore({
    ...base,
    archiving: {
      option: 'preserve',
      configFile: '/srv/pg/postgresql.conf',
      known: true,
      archiveMode: 'on',
      archiveModeFrom: '/srv/pg.config/conf.d/arch.conf',
      archiveCommand: 'cp %p /a/%f',
    },
    startCommand: 'pg_ctlcluster 15 main start',
  });
  assert.match(
    on,
    /archiving: archive_mode = on \(set in \/srv\/pg\.config\/conf\.d\/arch\.conf\), archive_command = cp %p \/a\/%f; once promoted/,
  );
  assert.match(on, /start it with: pg_ctlcluster 15 main start, or restore with --start/);
  const unknown = renderRestore({ ...base, archiving: { option: 'preserve', configFile: '/srv/pg/postgresql.conf', known: false } });
  assert.match(unknown, /archiving: unknown: \/srv\/pg\/postgresql\.conf does not exist/);
  assert.doesNotMatch(unknown, /archive_mode = off/);
});

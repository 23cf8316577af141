// The fixes doctor gives on a Debian-managed cluster (config in /etc/postgresql/<major>/<name>,
// pg_ctlcluster): evaluated from hand-made facts, since tests cannot create /etc/postgresql.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import type { Setting } from '../pg/catalog.js';
import { clusterLayout } from '../pg/layout.js';
import { evaluateChecks } from './evaluate.js';
import type { DoctorCheck, DoctorFacts } from './types.js';

const DATA = '/var/lib/postgresql/15/main';
const ETC = '/etc/postgresql/15/main';

function settings(values: Record<string, string>): Setting[] {
  return Object.entries(values).map(([name, setting]) => ({
    name,
    setting,
    unit: null,
    context: 'sighup',
    source: 'configuration file',
    pendingRestart: false,
  }));
}

function debianFacts(over: Partial<DoctorFacts> = {}): DoctorFacts {
  return {
    methods: ['stream', 'archive', 'cold'],
    target: 'postgres@/var/run/postgresql:5432/postgres',
    socket: true,
    user: 'postgres',
    clusterName: 'main',
    osUser: 'postgres',
    commandUser: 'postgres',
    server: {
      versionString: 'PostgreSQL 15.18',
      version: '15.18',
      versionNum: 150018,
      major: 15,
      systemIdentifier: '1',
      dataDirectory: DATA,
      currentUser: 'postgres',
      sessionUser: 'postgres',
      database: 'postgres',
      isSuperuser: true,
      inRecovery: false,
      clientAddress: null,
      ssl: false,
      startedAt: null,
    },
    settings: settings({
      wal_level: 'minimal',
      max_wal_senders: '0',
      max_replication_slots: '10',
      archive_mode: 'off',
      archive_command: '',
      archive_timeout: '0',
      data_directory: DATA,
      config_file: `${ETC}/postgresql.conf`,
      hba_file: `${ETC}/pg_hba.conf`,
      max_slot_wal_keep_size: '-1',
      max_wal_size: '1024',
    }),
    settingSources: { wal_level: { file: `${ETC}/postgresql.conf`, line: 212 } },
    usage: { walSendersInUse: 0, slotsInUse: 0 },
    hbaRules: [],
    layout: clusterLayout({ dataDirectory: DATA, configFile: `${ETC}/postgresql.conf`, hbaFile: `${ETC}/pg_hba.conf`, major: 15 }),
    pgdata: {
      configured: DATA,
      realpath: DATA,
      serverRealpath: DATA,
      control: {
        fields: {},
        warnings: [],
        crcMismatch: false,
        cleanlyShutDown: false,
        clusterState: 'in production',
        systemIdentifier: '1',
      },
    },
    ...over,
  };
}

function get(checks: DoctorCheck[], id: string): DoctorCheck {
  const c = checks.find((x) => x.check === id);
  assert.ok(c, `no ${id}: ${checks.map((x) => x.check).join(', ')}`);
  return c;
}

test('Debian: fixes name /etc/postgresql/15/main and pg_ctlcluster, never a placeholder or pg_ctl', () => {
  const checks = evaluateChecks(debianFacts());
  const wal = get(checks, 'wal_level');
  assert.equal(
    wal.fix,
    `in ${ETC}/postgresql.conf:\nwal_level = replica   # replaces line 212\nmax_wal_senders = 10\nthen restart the server: pg_ctlcluster 15 main restart`,
  );
  const mode = get(checks, 'archive_mode');
  assert.match(
    mode.fix!,
    new RegExp(`^in ${ETC}/postgresql\\.conf:\\narchive_mode = on\\nthen restart the server: pg_ctlcluster 15 main restart`),
  );
  assert.match(
    get(checks, 'hba_replication').fix!,
    new RegExp(
      `^add to ${ETC}/pg_hba\\.conf, before .*\\n.*\\nthen reload: SELECT pg_reload_conf\\(\\); \\(or pg_ctlcluster 15 main reload\\)$`,
    ),
  );
  const cold = get(checks, 'cluster_state');
  assert.equal(cold.status, 'WARN');
  assert.equal(cold.fix, 'stop it before a cold backup: pg_ctlcluster 15 main stop (or systemctl stop postgresql@15-main)');
  for (const c of checks) {
    assert.doesNotMatch(c.fix ?? '', /<major>|<name>|\bpg_ctl\b|sudo -u/, `${c.check}: ${c.fix}`);
    assert.doesNotMatch(c.fix ?? '', /(^|[^/])postgresql\.conf/m, `${c.check} names postgresql.conf without its path: ${c.fix}`);
  }
});

test('Debian, the server down after a crash: start and stop with pg_ctlcluster', () => {
  const checks = evaluateChecks(
    debianFacts({
      methods: ['cold'],
      server: undefined,
      settings: undefined,
      serverProcess: { pidFile: false, alive: false },
      connectionError: new PgkeepError('CONNECTION', 'cannot connect to host=/var/run/postgresql port=5432: no server socket'),
    }),
  );
  const cold = get(checks, 'cluster_state');
  assert.equal(cold.status, 'FAIL');
  assert.match(cold.message, /no server runs on it \(no postmaster\.pid\)/);
  assert.equal(
    cold.fix,
    'start the server so it recovers, then stop it cleanly: pg_ctlcluster 15 main start && pg_ctlcluster 15 main stop',
  );
});

test('a damaged control file (CRC mismatch) FAILs cluster_state, even when it reads "shut down"', () => {
  const checks = evaluateChecks(
    debianFacts({
      methods: ['cold'],
      server: undefined,
      settings: undefined,
      serverProcess: { pidFile: false, alive: false },
      connectionError: new PgkeepError('CONNECTION', 'cannot connect to host=/var/run/postgresql port=5432: no server socket'),
      pgdata: {
        configured: DATA,
        realpath: DATA,
        control: {
          fields: {},
          warnings: ['Calculated CRC checksum does not match value stored in file.'],
          crcMismatch: true,
          cleanlyShutDown: true,
          clusterState: 'shut down',
          systemIdentifier: '1',
        },
      },
    }),
  );
  const cold = get(checks, 'cluster_state');
  assert.equal(cold.status, 'FAIL');
  assert.match(cold.message, /global\/pg_control .* is damaged: its CRC does not match/);
  assert.match(cold.fix ?? '', /restore the cluster from a backup/);
});

test('archive_timeout 0 and an inactive slot with no limit: the RPO and the disk are named, with the fixes', () => {
  const facts = debianFacts({
    methods: ['archive'],
    settings: settings({
      archive_mode: 'on',
      archive_command: 'pgkeep wal push %p',
      archive_timeout: '0',
      max_slot_wal_keep_size: '-1',
      max_wal_size: '1024',
      config_file: `${ETC}/postgresql.conf`,
    }),
    slots: [{ name: 'pgkeep', type: 'physical', active: false, walStatus: 'extended', heldBytes: 3 * 1024 ** 3, safeWalSize: null }],
  });
  const checks = evaluateChecks(facts);
  assert.equal(get(checks, 'archive_timeout').status, 'WARN');
  const s = get(checks, 'replication_slots');
  assert.equal(s.status, 'FAIL');
  assert.match(s.message, /inactive replication slot pgkeep \(physical, inactive, holds 3\.0 GB of WAL, wal_status extended\)/);
  assert.match(s.fix!, /pgkeep wal stream --slot pgkeep/);
  assert.match(
    s.fix!,
    new RegExp(
      `in ${ETC}/postgresql\\.conf:\\nmax_slot_wal_keep_size = 10GB .*\\nthen reload: SELECT pg_reload_conf\\(\\); \\(or pg_ctlcluster 15 main reload\\)`,
    ),
  );
});

test('logical on a 17 server with only 15 client tools: pg_dump FAILs naming 17, what was found once, and postgresql-client-17', () => {
  const found = [{ path: '/usr/lib/postgresql/15/bin/pg_dump', major: 15, version: '15.18' }];
  const missing = new PgkeepError(
    'TOOL_MISSING',
    'pg_dump of major 17 or newer is needed; found only /usr/lib/postgresql/15/bin/pg_dump (15.18)',
    {
      details: { tool: 'pg_dump', minMajor: 17, found },
    },
  );
  const base = debianFacts();
  const checks = evaluateChecks(
    debianFacts({
      methods: ['logical'],
      server: { ...base.server!, version: '17.2', versionNum: 170002, major: 17 },
      tools: { pg_dump: missing, pg_restore: new PgkeepError('TOOL_MISSING', 'x', { details: { found: [] } }) },
    }),
  );
  const c = get(checks, 'pg_dump');
  assert.equal(c.status, 'FAIL');
  assert.equal(
    c.message,
    'pg_dump of major 17 or newer is needed for a PostgreSQL 17 server (it refuses a server newer than itself); ' +
      'found only /usr/lib/postgresql/15/bin/pg_dump (15.18)',
  );
  assert.match(c.fix ?? '', /^install postgresql-client-17 \(Debian\/Ubuntu: apt-get install postgresql-client-17;/);
  assert.match(c.fix ?? '', /PGKEEP_PG_BIN/);
  assert.equal(
    get(checks, 'pg_restore').message,
    'pg_restore of major 17 or newer is needed for a PostgreSQL 17 server ' + '(it must read what pg_dump 17+ writes); found no pg_restore',
  );
});

test('cold on a 13 data directory without pg_controldata 13: the fix names the server package postgresql-13, not the client one', () => {
  const base = debianFacts();
  const checks = evaluateChecks(
    debianFacts({
      methods: ['cold'],
      pgdata: {
        configured: DATA,
        realpath: DATA,
        serverRealpath: DATA,
        controlToolMajor: 13,
        controlError: 'pg_controldata of major 13 is needed; found only /usr/lib/postgresql/15/bin/pg_controldata (15.18)',
      },
      server: { ...base.server!, major: 13 },
    }),
  );
  const c = get(checks, 'cluster_state');
  assert.equal(c.status, 'FAIL');
  assert.match(
    c.fix ?? '',
    /^install postgresql-13 \(Debian\/Ubuntu: pg_controldata comes with the server package, in \/usr\/lib\/postgresql\/13\/bin/,
  );
  assert.match(c.fix ?? '', /pg_bin in \[cluster\.NAME\] \(or PGKEEP_PG_BIN\)/);
  assert.doesNotMatch(c.fix ?? '', /postgresql-client/);
});

test('PostgreSQL 12: version FAILs (pgkeep needs 13; 12 lacks the catalog columns doctor reads), nothing else is judged', () => {
  const base = debianFacts();
  const checks = evaluateChecks(
    debianFacts({
      methods: ['stream', 'local', 'logical'],
      server: { ...base.server!, version: '12.22', versionNum: 120022, major: 12 },
      settings: undefined,
      settingSources: undefined,
      usage: undefined,
      hbaRules: undefined,
    }),
  );
  const v = get(checks, 'version');
  assert.equal(v.status, 'FAIL');
  assert.match(v.message, /^PostgreSQL 12\.22 is not supported; pgkeep needs 13 or newer/);
  assert.deepEqual(
    checks.map((c) => c.check),
    ['reachable', 'version'],
  );
  assert.deepEqual(v.usedBy, ['stream', 'local', 'logical'], 'every method is not ready');
});

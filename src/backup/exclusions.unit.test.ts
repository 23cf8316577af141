import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decideEntries,
  isDatabaseDirectory,
  isTemporaryRelationName,
  parseRelationFileName,
  relationFileOf,
  unloggedNonInitForks,
} from './exclusions.js';

const f = (name: string) => ({ name, isDirectory: false });
const d = (name: string) => ({ name, isDirectory: true });
const decide = (dir: string, entries: { name: string; isDirectory: boolean }[], mode: 'hot' | 'cold' = 'hot') =>
  Object.fromEntries(decideEntries(dir, entries, mode));

test('top level: server-only files are skipped, runtime directories kept empty', () => {
  assert.deepEqual(
    decide('', [
      f('postmaster.pid'),
      f('postmaster.opts'),
      f('backup_label'),
      f('tablespace_map'),
      f('backup_manifest'),
      f('postgresql.auto.conf.tmp'),
      f('current_logfiles.tmp'),
      f('PG_VERSION'),
      f('postgresql.conf'),
      f('postgresql.auto.conf'),
      f('current_logfiles'),
      d('base'),
      d('global'),
      d('pg_wal'),
      d('pg_stat_tmp'),
      d('pg_replslot'),
      d('pg_dynshmem'),
      d('pg_notify'),
      d('pg_serial'),
      d('pg_snapshots'),
      d('pg_subtrans'),
      d('pg_xact'),
      d('pg_stat'),
      d('pg_tblspc'),
      d('pgsql_tmp'),
    ]),
    {
      'postmaster.pid': 'skip',
      'postmaster.opts': 'skip',
      backup_label: 'skip',
      tablespace_map: 'skip',
      backup_manifest: 'skip',
      'postgresql.auto.conf.tmp': 'skip',
      'current_logfiles.tmp': 'skip',
      PG_VERSION: 'include',
      'postgresql.conf': 'include',
      'postgresql.auto.conf': 'include',
      current_logfiles: 'include',
      base: 'include',
      global: 'include',
      pg_wal: 'include',
      pg_stat_tmp: 'empty-dir',
      pg_replslot: 'empty-dir',
      pg_dynshmem: 'empty-dir',
      pg_notify: 'empty-dir',
      pg_serial: 'empty-dir',
      pg_snapshots: 'empty-dir',
      pg_subtrans: 'empty-dir',
      pg_xact: 'include',
      pg_stat: 'include',
      pg_tblspc: 'include',
      pgsql_tmp: 'skip',
    },
  );
});

test('pg_wal: segments skipped, archive_status and summaries kept as empty directories', () => {
  assert.deepEqual(
    decide('pg_wal', [f('000000010000000000000001'), f('00000002.history'), d('archive_status'), d('summaries'), f('xlogtemp.123')]),
    {
      '000000010000000000000001': 'skip',
      '00000002.history': 'skip',
      archive_status: 'empty-dir',
      summaries: 'empty-dir',
      'xlogtemp.123': 'skip',
    },
  );
});

test('database directories: temporary relations, unlogged non-init forks, relcache init files skipped', () => {
  for (const dir of ['base/5', 'pg_tblspc/16390/PG_15_202209061/16384']) {
    assert.deepEqual(
      decide(dir, [
        f('16384'),
        f('16384_fsm'),
        f('16384_vm'),
        f('16384.1'),
        f('16400'),
        f('16400_init'),
        f('16400_fsm'),
        f('16400.1'),
        f('16400_init.1'),
        f('t3_16500'),
        f('t3_16500_fsm'),
        f('t12_16501.2'),
        f('pg_internal.init'),
        f('pg_internal.init.1234'),
        f('PG_VERSION'),
        f('pg_filenode.map'),
        d('pgsql_tmp'),
        f('pgsql_tmp1234.0'),
      ]),
      {
        16384: 'include',
        '16384_fsm': 'include',
        '16384_vm': 'include',
        '16384.1': 'include',
        16400: 'skip',
        '16400_init': 'include',
        '16400_fsm': 'skip',
        '16400.1': 'skip',
        '16400_init.1': 'include',
        t3_16500: 'skip',
        t3_16500_fsm: 'skip',
        't12_16501.2': 'skip',
        'pg_internal.init': 'skip',
        'pg_internal.init.1234': 'skip',
        PG_VERSION: 'include',
        'pg_filenode.map': 'include',
        pgsql_tmp: 'skip',
        'pgsql_tmp1234.0': 'skip',
      },
      dir,
    );
  }
});

test('outside database directories names like t1_2 are ordinary files', () => {
  assert.equal(decide('pg_logical', [f('t1_2')]).t1_2, 'include');
  assert.deepEqual(decide('global', [f('1262'), f('pg_control')]), { 1262: 'include', pg_control: 'include' });
  assert.equal(decide('global', [f('pg_internal.init')])['pg_internal.init'], 'skip');
});

test('cold backups keep everything but a stale postmaster.pid', () => {
  assert.deepEqual(decide('', [f('postmaster.pid'), f('postmaster.opts'), d('pg_wal'), d('pg_replslot'), f('backup_label')], 'cold'), {
    'postmaster.pid': 'skip',
    'postmaster.opts': 'include',
    pg_wal: 'include',
    pg_replslot: 'include',
    backup_label: 'include',
  });
  assert.equal(decide('pg_wal', [f('000000010000000000000001')], 'cold')['000000010000000000000001'], 'include');
  assert.equal(decide('base/5', [f('16400'), f('16400_init'), f('t3_1')], 'cold')['16400'], 'include');
});

test('name parsing helpers', () => {
  assert.equal(isDatabaseDirectory('base/1'), true);
  assert.equal(isDatabaseDirectory('base'), false);
  assert.equal(isDatabaseDirectory('pg_tblspc/16390/PG_15_202209061/5'), true);
  assert.equal(isDatabaseDirectory('global'), false);
  assert.equal(isTemporaryRelationName('t3_16500_vm.3'), true);
  assert.equal(isTemporaryRelationName('16500'), false);
  assert.deepEqual(parseRelationFileName('16384_fsm.2'), { relfilenode: '16384', fork: 'fsm', segment: 2 });
  assert.equal(parseRelationFileName('pg_filenode.map'), undefined);
  assert.deepEqual(relationFileOf('base/5/16384.3'), { relfilenode: '16384', fork: 'main', segment: 3 });
  assert.deepEqual(relationFileOf('global/1262'), { relfilenode: '1262', fork: 'main', segment: 0 });
  assert.equal(relationFileOf('global/pg_control'), undefined);
  assert.equal(relationFileOf('pg_xact/0000'), undefined);
  assert.equal(relationFileOf('pg_tblspc/16390/PG_15_202209061/5/16391_vm')?.fork, 'vm');
  assert.deepEqual([...unloggedNonInitForks(['1', '1_init', '1_vm', '2', '2_fsm'])].sort(), ['1', '1_vm']);
});

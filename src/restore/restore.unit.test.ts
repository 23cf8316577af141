import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileRecord } from '../repo/index.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import {
  parseTablespaceMapFile,
  parseTablespaceMapping,
  placeTablespaces,
  remapTablespaceMapFile,
  renderTablespaceMapFile,
} from './tablespace-map.js';
import { planRecovery, renderAutoConf, restoreCommand } from './recovery-config.js';
import { shellQuote } from '../shell-quote.js';
import { checkSnapshotPath, planRestore, recordedTablespaces } from './plan.js';
import { disablePlacementSettings } from './start.js';
import { OwnerResolver, parseIdFile } from './ownership.js';

const rec = (path: string, type: FileRecord['type'] = 'file', extra: Partial<FileRecord> = {}): FileRecord => ({
  path,
  type,
  mode: type === 'directory' ? 0o700 : 0o600,
  mtimeMs: 0,
  size: type === 'file' ? 10 : 0,
  chunks: [],
  ...extra,
});

const META: PhysicalBackupMeta = {
  method: 'local',
  label: 'x',
  standalone: false,
  systemIdentifier: '1',
  serverVersion: '15.1',
  serverVersionNum: 150001,
  timeline: 1,
  startLsn: '0/2000028',
  stopLsn: '0/2000100',
  startTime: '',
  stopTime: '',
  walSegmentSize: 16777216,
  walStart: '000000010000000000000002',
  walEnd: '000000010000000000000002',
  tablespaces: [],
  dataChecksums: true,
  serverManifest: false,
};

test('--tablespace-map: OLD=NEW parsed, "\\=" escapes, NEW must be absolute', () => {
  assert.deepEqual(parseTablespaceMapping('/srv/ts1=/restore/ts1/'), { from: '/srv/ts1', to: '/restore/ts1' });
  assert.deepEqual(parseTablespaceMapping('/srv/a\\=b=/x'), { from: '/srv/a=b', to: '/x' });
  assert.deepEqual(parseTablespaceMapping('16390=/x'), { from: '16390', to: '/x' });
  assert.throws(() => parseTablespaceMapping('/srv/ts1'), { code: 'USAGE' });
  assert.throws(() => parseTablespaceMapping('/srv/ts1=relative'), { code: 'USAGE' });
});

test('placeTablespaces maps by location or OID and refuses unknown or colliding targets', () => {
  const recorded = new Map([
    ['16390', '/srv/ts1'],
    ['16400', '/srv/ts2'],
  ]);
  assert.deepEqual(
    placeTablespaces(recorded, [
      { from: '/srv/ts1', to: '/r/1' },
      { from: '16400', to: '/r/2' },
    ]),
    [
      { oid: '16390', from: '/srv/ts1', to: '/r/1' },
      { oid: '16400', from: '/srv/ts2', to: '/r/2' },
    ],
  );
  assert.deepEqual(placeTablespaces(recorded, [])[0], { oid: '16390', from: '/srv/ts1', to: '/srv/ts1' });
  assert.throws(
    () => placeTablespaces(recorded, [{ from: '/nope', to: '/r' }]),
    (e: any) => e.code === 'USAGE' && /16390 \/srv\/ts1/.test(e.hint),
  );
  assert.throws(() => placeTablespaces(recorded, [{ from: '/srv/ts1', to: '/srv/ts2' }]), { code: 'USAGE' });
});

test('tablespace_map: escapes read and written like the server, remapped to new locations', () => {
  const text = '16390 /srv/ts1\n16400 /srv/odd\\\\name\\\nx\n';
  const parsed = parseTablespaceMapFile(text);
  assert.deepEqual(parsed, [
    { oid: '16390', path: '/srv/ts1' },
    { oid: '16400', path: '/srv/odd\\name\nx' },
  ]);
  assert.equal(renderTablespaceMapFile(parsed), text);
  const placed = [
    { oid: '16390', from: '/srv/ts1', to: '/new/ts1' },
    { oid: '16400', from: '/srv/odd\\name\nx', to: '/srv/odd\\name\nx' },
  ];
  assert.equal(remapTablespaceMapFile(text, placed), '16390 /new/ts1\n16400 /srv/odd\\\\name\\\nx\n');
  const same = [{ oid: '16390', from: '/srv/ts1', to: '/srv/ts1' }];
  assert.equal(remapTablespaceMapFile(text, same), text);
});

test('restore_command: absolute paths, sh quoting, % doubled, passphrase file and config passed on', () => {
  const cmd = restoreCommand(
    { repo: '/backups/my repo', cluster: 'main', passphraseFile: '/etc/pgkeep/pass 100%', configFile: '/etc/pgkeep/pgkeep.toml' },
    { nodePath: '/usr/bin/node', pgkeepScript: "/opt/pg'keep/bin/pgkeep.js" },
  );
  assert.equal(
    cmd,
    "PGKEEP_NODE=/usr/bin/node '/opt/pg'\\''keep/bin/pgkeep.js' --repo '/backups/my repo' --cluster main " +
      "--config /etc/pgkeep/pgkeep.toml --passphrase-file '/etc/pgkeep/pass 100%%' wal get --prefetch 8 %f %p",
  );
  assert.match(
    restoreCommand({ repo: 'rel/repo', cluster: 'c', prefetch: 0 }),
    new RegExp(`--repo ${process.cwd()}/rel/repo --cluster c wal get %f %p$`),
  );
  assert.match(restoreCommand({ repo: 's3://bucket/p', cluster: 'c' }), / --repo s3:\/\/bucket\/p /);
  assert.equal(shellQuote('plain/path-1.x'), 'plain/path-1.x');
  assert.equal(shellQuote('a b'), "'a b'");
});

test('planRecovery: cold none, standalone crash recovery, other hot backups archive recovery', () => {
  const access = { repo: '/r', cluster: 'main' };
  assert.equal(planRecovery({ meta: { ...META, method: 'cold' }, access, encrypted: false }).mode, 'none');
  assert.equal(planRecovery({ meta: { ...META, standalone: true }, access, encrypted: false }).mode, 'crash-recovery');
  const hot = planRecovery({ meta: META, access, encrypted: true, nodePath: '/n', pgkeepScript: '/p.js' });
  assert.equal(hot.mode, 'archive-recovery');
  assert.equal(hot.signal, 'recovery.signal');
  assert.equal(
    hot.settings.restore_command,
    `PGKEEP_NODE=/n /p.js --repo /r --cluster main wal get --prefetch 8 --system-id ${META.systemIdentifier} %f %p`,
    'prefetch is on by default, with the system the sh front serves from the spool',
  );
  assert.equal(
    hot.settings.recovery_end_command,
    'PGKEEP_NODE=/n /p.js --cluster main wal spool-clean',
    'the spool is removed when recovery ends',
  );
  const direct = planRecovery({ meta: META, access: { ...access, prefetch: 0 }, encrypted: false, nodePath: '/n', pgkeepScript: '/p.js' });
  assert.equal(direct.settings.restore_command, 'PGKEEP_NODE=/n /p.js --repo /r --cluster main wal get %f %p');
  assert.equal(direct.settings.recovery_end_command, undefined);
  assert.equal(
    planRecovery({ meta: META, access: { ...access, prefetch: 3 }, encrypted: false, nodePath: '/n', pgkeepScript: '/p.js' }).settings
      .restore_command,
    `PGKEEP_NODE=/n /p.js --repo /r --cluster main wal get --prefetch 3 --system-id ${META.systemIdentifier} %f %p`,
  );
  assert.match(hot.warnings.join('\n'), /encrypted.*passphrase file/);
  const pitr = planRecovery({
    meta: { ...META, method: 'cold' },
    access,
    encrypted: false,
    request: { settings: { recovery_target_time: '2026-01-01 00:00:00+00' } },
  });
  assert.equal(pitr.mode, 'archive-recovery');
  assert.equal(pitr.settings.recovery_target_time, '2026-01-01 00:00:00+00');
});

test('renderAutoConf drops stale recovery settings and appends ours, quoted', () => {
  const current = "# Do not edit\nwork_mem = '8MB'\nrestore_command = 'cp /old/%f %p'\nrecovery_target_time = '2020-01-01'\n";
  const out = renderAutoConf(current, { restore_command: "/n /p.js --repo '/a b' wal get %f %p" }, 'snapshot X');
  assert.equal(
    out,
    "# Do not edit\nwork_mem = '8MB'\n# recovery settings written by pgkeep restore (snapshot X)\n" +
      "restore_command = '/n /p.js --repo ''/a b'' wal get %f %p'\n",
  );
  assert.equal(renderAutoConf(out, { restore_command: 'x' }, 'snapshot Y').match(/pgkeep restore/g)?.length, 1);
});

test('planRestore: paths checked, pg_control last, tablespace files to their location, pg_wal symlink as a directory', () => {
  for (const bad of ['../etc/passwd', '/abs', 'base/../../x', 'a//b', 'base/./1']) {
    assert.throws(() => checkSnapshotPath(bad), { code: 'DATA_INTEGRITY' }, bad);
  }
  const records = [
    rec('PG_VERSION', 'file', { uid: 26, gid: 27, owner: 'postgres', group: 'postgres' }),
    rec('backup_manifest'),
    rec('base', 'directory'),
    rec('base/1', 'directory'),
    rec('base/1/1259', 'file', { size: 100 }),
    rec('global/pg_control'),
    rec('pg_tblspc', 'directory'),
    rec('pg_tblspc/16390', 'symlink', { linkTarget: '/srv/ts1' }),
    rec('pg_tblspc/16390/PG_15_1', 'directory'),
    rec('pg_tblspc/16390/PG_15_1/5/16391'),
    rec('pg_wal', 'symlink', { linkTarget: '/srv/wal' }),
    rec('postmaster.pid'),
    rec('orphan/dir/file'),
  ];
  const placed = placeTablespaces(recordedTablespaces(records, { tablespaces: [] }), [{ from: '/srv/ts1', to: '/new/ts' }]);
  const plan = planRestore('/data', records, placed);
  assert.equal(plan.pgControl?.local, '/data/global/pg_control');
  assert.ok(!plan.files.some((f) => f.rel === 'global/pg_control' || f.rel === 'postmaster.pid'));
  assert.equal(plan.files[0]!.rel, 'base/1/1259', 'largest first');
  assert.equal(plan.files.find((f) => f.rel.endsWith('16391'))?.local, '/new/ts/PG_15_1/5/16391');
  assert.equal(plan.directories.find((d) => d.rel === 'pg_tblspc/16390/PG_15_1')?.local, '/new/ts/PG_15_1');
  assert.deepEqual(
    plan.tablespaces.map((t) => [t.oid, t.link, t.to]),
    [['16390', '/data/pg_tblspc/16390', '/new/ts']],
  );
  assert.equal(plan.directories.find((d) => d.rel === 'pg_wal')?.record.type, 'directory');
  assert.equal(plan.symlinks.length, 0);
  assert.ok(plan.keep.has('orphan') && plan.keep.has('orphan/dir') && plan.keep.has('pg_tblspc/16390'));
  assert.ok(!plan.keep.has('pg_tblspc/16390/PG_15_1'));
  assert.equal(plan.totals.files, 6);
  const manifest = plan.files.find((f) => f.rel === 'backup_manifest')!.record;
  assert.deepEqual([manifest.uid, manifest.gid, manifest.owner], [26, 27, 'postgres'], 'owner-less entries get the data directory owner');
  assert.equal(plan.tablespaces[0]!.record?.owner, 'postgres');
  const synthetic = plan.directories.find((d) => d.rel === 'pg_wal/archive_status');
  assert.equal(synthetic?.record.owner, 'postgres', 'directories the server needs are created when a snapshot lacks them');
  assert.ok(plan.directories.some((d) => d.rel === 'pg_replslot') && plan.keep.has('pg_stat_tmp'));
  assert.equal(plan.directories.filter((d) => d.rel === 'pg_tblspc').length, 1);
});

test("start: the source's port, socket directory and listen addresses in postgresql.auto.conf are disabled", () => {
  const out = disablePlacementSettings(
    "port = '5432'\nwork_mem = '4MB'\nunix_socket_directories = '/run/x'\nlisten_addresses='*'\nportal = 1\n",
  );
  assert.equal(out.split('\n').filter((l) => l.startsWith('# disabled by pgkeep')).length, 3);
  assert.match(out, /^work_mem = '4MB'$/m);
  assert.match(out, /^portal = 1$/m);
});

test('owners: by name when this host knows it, else by number; nothing when not root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-owner-'));
  try {
    writeFileSync(join(dir, 'passwd'), 'root:x:0:0::/root:/bin/sh\npostgres:x:105:110::/var/lib/postgresql:/bin/sh\n');
    writeFileSync(join(dir, 'group'), 'root:x:0:\npostgres:x:110:\n');
    assert.deepEqual(
      [...parseIdFile('a:x:1:2\nbad\nb:x:3:4\n')],
      [
        ['a', 1],
        ['b', 3],
      ],
    );
    const o = new OwnerResolver(true, { passwd: join(dir, 'passwd'), group: join(dir, 'group') });
    assert.deepEqual(o.ownerOf({ uid: 26, gid: 26, owner: 'postgres', group: 'postgres' }), { uid: 105, gid: 110 });
    assert.deepEqual(o.ownerOf({ uid: 26, gid: 27, owner: 'nobody-here', group: 'none' }), { uid: 26, gid: 27 });
    assert.equal(new OwnerResolver(false).ownerOf({ uid: 26, gid: 26 }), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * Debian's layout end to end (issue 10): a real cluster whose postgresql.conf, pg_hba.conf and
 * pg_ident.conf live in a separate "etc" directory (with a conf.d/ that turns archiving on), as
 * /etc/postgresql/<major>/<name> does. Backups (stream and local) store those files, `show`
 * lists them, restore writes them beside the data directory (never over the originals), the
 * copy runs on them, and the restore reports archiving from the configuration really used.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { backup, showBackup } from '../backup/index.js';
import type { PhysicalBackupMeta } from '../holdings/index.js';
import { renderShow } from '../cli/commands/show.js';
import { renderRestore } from '../cli/commands/restore.js';
import { dryRunRestore, restore, type RestoreOptions } from './index.js';
import { renderRestorePlan } from '../cli/restore-plan-render.js';
import { listTree, sha256File } from './test-compare.js';

let source: LocalCluster;
let repo: Repository;
let work: { path: string; remove(): Promise<void> };
let etc: string;
let archive: string;
const CLUSTER = 'main';
const BIN = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));
const ids: Record<'stream' | 'local', string> = { stream: '', local: '' };

/** The etc directory's files and contents, to prove nothing wrote there. */
function snapshotOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${rel}${n}/`);
      else out[`${rel}${n}`] = readFileSync(p, 'utf8');
    }
  };
  walk(dir, '');
  return out;
}

before(async () => {
  work = await tempDir('pgkeep-debian-layout-');
  etc = join(work.path, 'etc', '15', 'main');
  archive = join(work.path, 'archive');
  mkdirSync(archive);
  chownTreeToServerUser(archive);
  source = await LocalCluster.create({
    configDir: etc,
    settings: { wal_level: 'replica', max_wal_senders: 5, max_replication_slots: 5, fsync: false },
    hba: ['local replication all trust'],
  });
  mkdirSync(join(etc, 'conf.d'));
  writeFileSync(join(etc, 'conf.d', 'archiving.conf'), `archive_mode = on\narchive_command = 'cp %p ${archive}/%f'\n`);
  mkdirSync(join(work.path, 'run'));
  chownTreeToServerUser(join(work.path, 'run'));
  appendFileSync(join(etc, 'postgresql.conf'), `include_dir = 'conf.d'\nexternal_pid_file = '${join(work.path, 'run', '15-main.pid')}'\n`);
  chownTreeToServerUser(join(etc, 'conf.d'));
  await source.start();
  await source.exec('CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 1000);');
  repo = await newPosixRepo(join(work.path, 'repo'));
});

after(async () => {
  await source?.destroy();
  await repo?.close();
  await work?.remove();
});

const restoreOpts = (id: string, name: string, more: Partial<RestoreOptions> = {}): RestoreOptions => ({
  repo,
  cluster: CLUSTER,
  id,
  to: join(work.path, name),
  sync: false,
  access: { repo: join(work.path, 'repo'), cluster: CLUSTER },
  debianConfigRoot: join(work.path, 'no-etc-postgresql'),
  ...more,
});

test('the server reports its configuration outside the data directory', async () => {
  const [r] = await source.query<{ c: string; h: string; m: string }>(
    "SELECT current_setting('config_file') AS c, current_setting('hba_file') AS h, current_setting('archive_mode') AS m",
  );
  assert.equal(r!.c, join(etc, 'postgresql.conf'));
  assert.equal(r!.h, join(etc, 'pg_hba.conf'));
  assert.equal(r!.m, 'on');
});

for (const method of ['stream', 'local'] as const) {
  test(`${method} backup stores postgresql.conf, pg_hba.conf, pg_ident.conf and conf.d from outside the data directory; show lists them`, async () => {
    const b = await backup({ repo, clusterName: CLUSTER, cluster: source.connectionSettings(), method, standalone: true, jobs: 2 });
    ids[method] = b.snapshotId;
    const d = await showBackup(repo, CLUSTER, b.snapshotId);
    const ext = (d.meta as unknown as PhysicalBackupMeta).externalConfig;
    assert.ok(ext, 'the snapshot records the external configuration');
    const byPath = new Map(ext.files.map((f) => [f.path, f]));
    for (const [role, name] of [
      ['config_file', 'postgresql.conf'],
      ['hba_file', 'pg_hba.conf'],
      ['ident_file', 'pg_ident.conf'],
      ['include', 'conf.d/archiving.conf'],
    ]) {
      const f = byPath.get(join(etc, name!));
      assert.ok(f, `${name} stored`);
      assert.equal(f.role, role);
      assert.equal(f.text, readFileSync(join(etc, name!), 'utf8'), `${name} stored as it is`);
    }
    assert.deepEqual(ext.includeDirs, [join(etc, 'conf.d')]);
    assert.equal(ext.dataDirectory, source.dataDir);
    const text = renderShow(d);
    assert.match(text, new RegExp(`config_file +${join(etc, 'postgresql.conf')} \\(\\d+ bytes\\)`));
    assert.match(text, new RegExp(`hba_file +${join(etc, 'pg_hba.conf')}`));
    assert.match(text, new RegExp(`include_dir ${join(etc, 'conf.d')}`));
  });
}

test('a cold backup of the data directory of a postgresql-common cluster stores the configuration of /etc/postgresql/<major>/<name>', async () => {
  await source.stop();
  try {
    // work/etc is laid out as /etc/postgresql: 15/main/postgresql.conf names the data directory
    const b = await backup({
      repo,
      clusterName: 'cold',
      cluster: source.connectionSettings(),
      method: 'cold',
      debianConfigRoot: join(work.path, 'etc'),
    });
    const ext = ((await showBackup(repo, 'cold', b.snapshotId)).meta as unknown as PhysicalBackupMeta).externalConfig;
    assert.deepEqual(
      ext?.files.map((f) => [f.role, f.path, f.text === readFileSync(f.path, 'utf8')]),
      [
        ['config_file', join(etc, 'postgresql.conf'), true],
        ['include', join(etc, 'conf.d', 'archiving.conf'), true],
        ['hba_file', join(etc, 'pg_hba.conf'), true],
        ['ident_file', join(etc, 'pg_ident.conf'), true],
      ],
    );
    const other = await backup({
      repo,
      clusterName: 'cold',
      cluster: source.connectionSettings(),
      method: 'cold',
      debianConfigRoot: join(work.path, 'none'),
    });
    assert.equal(((await showBackup(repo, 'cold', other.snapshotId)).meta as unknown as PhysicalBackupMeta).externalConfig, undefined);
  } finally {
    await source.start();
  }
});

test('the least-privilege role of docs/operating-system.md backs up (stream and local), configuration included', async () => {
  await source.exec(`
    CREATE ROLE pgkeep_backup LOGIN REPLICATION;
    GRANT EXECUTE ON FUNCTION pg_backup_start(text, boolean) TO pgkeep_backup;
    GRANT EXECUTE ON FUNCTION pg_backup_stop(boolean) TO pgkeep_backup;
    GRANT EXECUTE ON FUNCTION pg_control_system() TO pgkeep_backup;
    GRANT EXECUTE ON FUNCTION pg_read_file(text) TO pgkeep_backup;
    GRANT EXECUTE ON FUNCTION pg_ls_dir(text) TO pgkeep_backup;
    GRANT pg_read_all_settings, pg_read_server_files TO pgkeep_backup;`);
  const settings = { ...source.connectionSettings(), connection: source.connectionString('postgres', 'pgkeep_backup') };
  for (const method of ['stream', 'local'] as const) {
    const b = await backup({ repo, clusterName: 'least-privilege', cluster: settings, method });
    assert.deepEqual(b.warnings, [], `${method}: ${b.warnings.join('; ')}`);
    const ext = ((await showBackup(repo, 'least-privilege', b.snapshotId)).meta as unknown as PhysicalBackupMeta).externalConfig;
    assert.deepEqual(
      ext?.files.map((f) => [f.role, f.error]),
      [
        ['config_file', undefined],
        ['include', undefined],
        ['hba_file', undefined],
        ['ident_file', undefined],
      ],
      method,
    );
  }
});

test("restore writes them beside the data directory, the copy runs on them (not on the source's files), archiving reported on", async () => {
  const before = snapshotOf(join(work.path, 'etc'));
  const to = join(work.path, 'copy1');
  const r = await restore(restoreOpts(ids.stream, 'copy1'));
  assert.deepEqual(snapshotOf(join(work.path, 'etc')), before, 'the original configuration is untouched');
  assert.equal(r.configuration?.dir, `${to}.config`);
  assert.equal(r.configuration?.used, true);
  assert.equal(readFileSync(join(`${to}.config`, 'pg_hba.conf'), 'utf8'), before['15/main/pg_hba.conf']);
  assert.equal(readFileSync(join(`${to}.config`, 'conf.d', 'archiving.conf'), 'utf8'), before['15/main/conf.d/archiving.conf']);
  // item 2: the truth about archiving, from the configuration the copy will read
  assert.equal(r.archiving.archiveMode, 'on');
  assert.equal(r.archiving.archiveModeFrom, join(`${to}.config`, 'conf.d', 'archiving.conf'));
  assert.equal(r.archiving.archiveCommand, `cp %p ${archive}/%f`);
  const text = renderRestore(r);
  assert.match(text, /archiving: archive_mode = on \(set in .*archiving\.conf\), archive_command = cp %p/);
  assert.doesNotMatch(text, /not set in the data directory/);
  // item 3: the start command fits the layout (pg_ctl on DIR, whose postgresql.conf leads to the copies)
  assert.match(r.startCommand, new RegExp(`pg_ctl' start -D '?${to}'?$|pg_ctl start -D '?${to}'?$`));
  if (process.getuid?.() === 0) assert.match(r.startCommand, /^runuser -u postgres -- /);

  // started the way the printed command does (pg_ctl -D DIR): it reads the restored copies, runs on DIR, archives as configured
  const copy = await LocalCluster.attach(to);
  try {
    await copy.start();
    const [s] = await copy.query<{ d: string; c: string; m: string; p: string }>(
      "SELECT current_setting('data_directory') AS d, current_setting('config_file') AS c, current_setting('archive_mode') AS m, current_setting('external_pid_file') AS p",
    );
    assert.equal(s!.d, to, "the copy runs on its own data directory, not the one the source's postgresql.conf names");
    assert.equal(s!.c, join(to, 'postgresql.conf'));
    assert.equal(s!.m, 'on');
    assert.equal(s!.p, join(to, 'external.pid'), "not the source's pid file");
  } finally {
    await copy.destroy();
  }
  const sourcePid = readFileSync(join(source.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
  assert.equal(
    readFileSync(join(work.path, 'run', '15-main.pid'), 'utf8').split('\n')[0],
    sourcePid,
    "the source's external pid file is still the source's",
  );
});

/** Every entry under dir: type, mode, size, mtime and content hash (symlinks: target). */
function fingerprint(dir: string): string[] {
  return listTree(dir).map((r) => {
    const p = join(dir, r);
    const st = lstatSync(p);
    const what = st.isSymbolicLink() ? `-> ${readlinkSync(p)}` : st.isFile() ? sha256File(p) : 'dir';
    return `${r} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${what}`;
  });
}

test('restore --plan over the used copy: lists what --delta writes and removes (pg_wal included), writes nothing; the restore then does exactly that', async () => {
  const to = join(work.path, 'copy1');
  // a damaged block, a lost file, a stray file; the copy ran, so pg_wal holds WAL of its own the repository lacks
  const rel = (await source.query<{ p: string }>("SELECT pg_relation_filepath('t') AS p"))[0]!.p;
  const fd = openSync(join(to, rel), 'r+');
  writeSync(fd, Buffer.from('damaged'), 0, 7, 100);
  closeSync(fd);
  rmSync(join(to, 'base', '1', 'PG_VERSION'));
  writeFileSync(join(to, 'stray.txt'), 'not in the backup\n');
  const before = fingerprint(to);
  const beside = readdirSync(work.path).sort();

  const plan = await dryRunRestore(restoreOpts(ids.stream, 'copy1', { delta: true, overwriteConfig: true }));
  assert.deepEqual(fingerprint(to), before, 'the data directory is byte-identical after --plan');
  assert.deepEqual(readdirSync(work.path).sort(), beside, 'nothing written beside it (no unarchived-WAL copy, no config)');

  assert.equal(plan.snapshotId, ids.stream);
  assert.ok(plan.wal, 'the WAL range is part of the plan');
  assert.deepEqual(
    plan.writes.find((w) => w.path === rel),
    { path: rel, action: 'update', type: 'file', chunks: 1 },
  );
  assert.deepEqual(
    plan.writes.find((w) => w.path === 'base/1/PG_VERSION'),
    { path: 'base/1/PG_VERSION', action: 'create', type: 'file', chunks: 1 },
  );
  assert.ok(plan.removes.includes('stray.txt'), plan.removes.join(', '));
  assert.ok((plan.unarchivedWal?.files.length ?? 0) > 0, "the copy's own WAL is found missing from the archive");
  assert.ok(plan.pgkeepWrites.includes(join(to, 'postgresql.conf')));
  const text = renderRestorePlan(plan);
  assert.match(text, /^plan \(nothing written\)/);
  assert.match(text, new RegExp(`update +${rel} \\(1 chunk\\)`));
  assert.match(text, /remove +stray\.txt/);
  assert.match(text, /keep +pg_wal\/[0-9A-F]{24}/);

  const r = await restore(restoreOpts(ids.stream, 'copy1', { delta: true, overwriteConfig: true }));
  assert.deepEqual(r.removed, plan.removes, 'the restore removed what the plan said');
  assert.equal(r.stats.filesWritten, plan.writes.filter((w) => w.type === 'file').length, 'and wrote as many files as the plan said');
  assert.deepEqual(r.unarchivedWal?.files, plan.unarchivedWal?.files);
  // the CLI: --dry-run is --plan; JSON is the same data; with --start it is a usage error
  const after = fingerprint(to);
  const cli = (extra: string[]) =>
    spawnSync(
      process.execPath,
      [BIN, '--repo', join(work.path, 'repo'), '--cluster', CLUSTER, '--json', 'restore', ids.stream, '--to', to, '--delta', ...extra],
      { encoding: 'utf8' },
    );
  const dry = cli(['--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  const json = JSON.parse(dry.stdout) as { snapshotId: string; writes: unknown[]; removes: string[] };
  assert.equal(json.snapshotId, ids.stream);
  assert.deepEqual(json.removes, [], 'nothing left to remove after the restore');
  assert.deepEqual(fingerprint(to), after);
  const misuse = cli(['--plan', '--start']);
  assert.equal(misuse.status, 2, misuse.stderr);
  assert.match(misuse.stdout + misuse.stderr, /--plan writes nothing and starts nothing/);
});

test('into the data directory of a cluster of (a stand-in for) /etc/postgresql: its own configuration is used and reported, pg_ctlcluster starts it, --start is refused', async () => {
  const root = join(work.path, 'etc-postgresql');
  const to = join(work.path, 'debian-clone');
  mkdirSync(join(root, '15', 'clone', 'conf.d'), { recursive: true });
  const conf = `data_directory = '${to}'\ninclude_dir = 'conf.d'\n`;
  writeFileSync(join(root, '15', 'clone', 'postgresql.conf'), conf);
  writeFileSync(join(root, '15', 'clone', 'conf.d', 'arch.conf'), "archive_mode = always\narchive_command = '/bin/true'\n");

  const refused = await restore(restoreOpts(ids.stream, 'debian-clone', { debianConfigRoot: root, start: true })).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(refused instanceof PgkeepError && refused.code === 'USAGE', String(refused));
  assert.match(refused.hint ?? '', /pg_ctlcluster 15 clone start/);
  assert.throws(() => statSync(to), 'nothing written');

  const r = await restore(restoreOpts(ids.stream, 'debian-clone', { debianConfigRoot: root }));
  assert.equal(r.startCommand, 'pg_ctlcluster 15 clone start');
  assert.match(renderRestore(r), /start it with: pg_ctlcluster 15 clone start, or restore with --start/);
  assert.equal(r.configuration?.used, false);
  assert.throws(() => statSync(join(to, 'postgresql.conf')), "the cluster's own configuration is not shadowed");
  assert.equal(
    readFileSync(join(`${to}.config`, 'conf.d', 'archiving.conf'), 'utf8'),
    readFileSync(join(etc, 'conf.d', 'archiving.conf'), 'utf8'),
    "the backup's copies, for reference",
  );
  assert.equal(readFileSync(join(root, '15', 'clone', 'postgresql.conf'), 'utf8'), conf, '/etc is never written');
  assert.equal(r.archiving.configFile, join(root, '15', 'clone', 'postgresql.conf'));
  assert.equal(r.archiving.archiveMode, 'always');
  assert.equal(r.archiving.archiveModeFrom, join(root, '15', 'clone', 'conf.d', 'arch.conf'));
});

test('--archive-mode off: reported off, and the started copy does not archive', async () => {
  let copy: LocalCluster | undefined;
  try {
    const r = await restore(
      restoreOpts(ids.local, 'copy2', {
        archiveMode: 'off',
        start: true,
        onStarted: (c) => {
          copy = c;
        },
      }),
    );
    assert.equal(r.archiving.archiveMode, 'off');
    assert.match(renderRestore(r), /archiving: off/);
    assert.ok(copy, 'started');
    const [s] = await copy.query<{ m: string; d: string }>(
      "SELECT current_setting('archive_mode') AS m, current_setting('data_directory') AS d",
    );
    assert.equal(s!.m, 'off');
    assert.equal(s!.d, join(work.path, 'copy2'));
  } finally {
    await copy?.destroy();
  }
});

test('restoring again over a config directory the DBA edited is refused before anything is written; --overwrite-config replaces it', async () => {
  const conf = join(work.path, 'copy1.config', 'pg_hba.conf');
  writeFileSync(conf, '# edited by the DBA\n');
  const pgControl = statSync(join(work.path, 'copy1', 'global', 'pg_control')).mtimeMs;
  const err = await restore(restoreOpts(ids.stream, 'copy1', { delta: true })).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof PgkeepError && err.code === 'CONFLICT', String(err));
  assert.match(err.message, /pg_hba\.conf exists with other content/);
  assert.equal(readFileSync(conf, 'utf8'), '# edited by the DBA\n');
  assert.equal(statSync(join(work.path, 'copy1', 'global', 'pg_control')).mtimeMs, pgControl, 'the data directory was not touched');
  await restore(restoreOpts(ids.stream, 'copy1', { delta: true, overwriteConfig: true }));
  assert.notEqual(readFileSync(conf, 'utf8'), '# edited by the DBA\n');
});

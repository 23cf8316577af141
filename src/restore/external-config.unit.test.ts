import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectExternalConfig, type ConfigReader } from '../backup/external-config.js';
import { planExternalConfig, rewriteIncludes } from './external-config.js';
import { restoredArchiveSettings } from './archive-mode.js';
import { missingConfigWarning } from './start-command.js';
import { PgkeepError } from '../errors.js';

const ETC = '/etc/postgresql/15/main';
const DATA = '/var/lib/postgresql/15/main';

function reader(files: Record<string, string>, dirs: Record<string, string[]> = {}): ConfigReader {
  return {
    readFile: async (p) => {
      if (files[p] === undefined) throw new Error(`could not open file "${p}": No such file or directory`);
      return files[p]!;
    },
    listDir: async (p) => {
      if (!dirs[p]) throw new Error(`could not open directory "${p}"`);
      return dirs[p]!;
    },
  };
}

test('collect: files outside the data directory and what they include; a file that cannot be read is named, not dropped', async () => {
  const ext = await collectExternalConfig(
    { dataDirectory: DATA, configFile: `${ETC}/postgresql.conf`, hbaFile: `${ETC}/pg_hba.conf`, identFile: `${ETC}/pg_ident.conf` },
    reader(
      {
        [`${ETC}/postgresql.conf`]: `data_directory = '${DATA}'\ninclude_dir = 'conf.d'\ninclude_if_exists = 'absent.conf'\ninclude '${DATA}/inside.conf'\n`,
        [`${ETC}/conf.d/a.conf`]: 'archive_mode = on\n',
        [`${DATA}/inside.conf`]: 'work_mem = 8MB\n',
        [`${ETC}/pg_ident.conf`]: '',
      },
      { [`${ETC}/conf.d`]: ['b.txt', 'a.conf', '.hidden.conf'] },
    ),
  );
  assert.ok(ext);
  assert.deepEqual(
    ext.files.map((f) => [f.role, f.path, f.text !== undefined]),
    [
      ['config_file', `${ETC}/postgresql.conf`, true],
      ['include', `${ETC}/conf.d/a.conf`, true],
      ['hba_file', `${ETC}/pg_hba.conf`, false],
      ['ident_file', `${ETC}/pg_ident.conf`, true],
    ],
  );
  assert.match(ext.files[2]!.error!, /No such file/);
  assert.deepEqual(ext.includeDirs, [`${ETC}/conf.d`]);
  // all inside: nothing to store
  assert.equal(
    await collectExternalConfig(
      { dataDirectory: DATA, configFile: `${DATA}/postgresql.conf`, hbaFile: `${DATA}/pg_hba.conf`, identFile: `${DATA}/pg_ident.conf` },
      reader({ [`${DATA}/postgresql.conf`]: '' }),
    ),
    undefined,
  );
});

test('plan: files go below DIR.config keeping their places; includes of stored files and of the data directory are rewritten; the copy gets its own data_directory', () => {
  const ext = {
    dataDirectory: DATA,
    includeDirs: [`${ETC}/conf.d`],
    files: [
      {
        role: 'config_file' as const,
        path: `${ETC}/postgresql.conf`,
        text: `data_directory = '${DATA}'\ninclude '/etc/postgresql/common.conf'\ninclude_if_exists = '${DATA}/local.conf'\n`,
      },
      { role: 'include' as const, path: '/etc/postgresql/common.conf', text: 'x = 1\n' },
      { role: 'hba_file' as const, path: `${ETC}/pg_hba.conf`, text: 'local all all peer\n' },
      { role: 'ident_file' as const, path: `${ETC}/pg_ident.conf`, error: 'permission denied' },
    ],
  };
  const plan = planExternalConfig(ext, '/srv/copy', { kind: 'plain' })!;
  assert.equal(plan.dir, '/srv/copy.config');
  assert.deepEqual(
    plan.files.map((f) => f.to),
    ['/srv/copy.config/postgresql.conf', '/srv/copy.config/other/etc/postgresql/common.conf', '/srv/copy.config/pg_hba.conf'],
  );
  assert.deepEqual(plan.dirs, ['/srv/copy.config/conf.d']);
  const conf = plan.texts.get('/srv/copy.config/postgresql.conf')!;
  assert.match(
    conf,
    /^include = '\/srv\/copy\.config\/other\/etc\/postgresql\/common\.conf'\t# pgkeep restore, was: include '\/etc\/postgresql\/common\.conf'$/m,
  );
  assert.match(conf, /^include_if_exists = '\/srv\/copy\/local\.conf'/m);
  assert.deepEqual(plan.missing, [{ role: 'ident_file', path: `${ETC}/pg_ident.conf`, error: 'permission denied' }]);
  assert.equal(plan.used, true);
  assert.match(plan.dataDirBlock!, /^include '\/srv\/copy\.config\/postgresql\.conf'$/m);
  assert.match(
    plan.dataDirBlock!,
    /data_directory = '\/srv\/copy'\nhba_file = '\/srv\/copy\.config\/pg_hba\.conf'\nexternal_pid_file = '\/srv\/copy\/external\.pid'/,
  );
  // a Debian cluster's own data directory: copies for reference only, its /etc configuration is what runs
  const debian = planExternalConfig(
    ext,
    DATA,
    { kind: 'debian', cluster: { major: '15', name: 'main', configDir: ETC, dataDirectory: DATA } },
    '/root/restored-config',
  )!;
  assert.equal(debian.used, false);
  assert.equal(debian.dataDirBlock, undefined);
  assert.equal(debian.configFile, `${ETC}/postgresql.conf`);
  assert.equal(
    rewriteIncludes('port = 5432\n', `${ETC}/postgresql.conf`, () => '/x'),
    'port = 5432\n',
  );
});

test('archiving is read from the configuration the server will use; no postgresql.conf at all is "unknown", not "off"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-archiving-'));
  try {
    const none = await restoredArchiveSettings(dir);
    assert.equal(none.known, false);
    assert.equal(none.archiveMode, undefined);
    writeFileSync(join(dir, 'other.conf'), "archive_mode = 'on'\narchive_command = 'pgkeep wal push %p'\n");
    writeFileSync(join(dir, 'postgresql.auto.conf'), '');
    const used = await restoredArchiveSettings(dir, join(dir, 'other.conf'));
    assert.deepEqual(used, {
      configFile: join(dir, 'other.conf'),
      known: true,
      archiveMode: 'on',
      archiveModeFrom: join(dir, 'other.conf'),
      archiveCommand: 'pgkeep wal push %p',
    });
    writeFileSync(join(dir, 'postgresql.auto.conf'), 'archive_mode = off\n');
    const off = await restoredArchiveSettings(dir, join(dir, 'other.conf'));
    assert.equal(off.archiveMode, 'off');
    assert.equal(off.archiveModeFrom, join(dir, 'postgresql.auto.conf'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("plan: an hba_file the source kept in its data directory becomes this data directory's, never the source's; --config-to DIR itself is refused", () => {
  const ext = {
    dataDirectory: DATA,
    includeDirs: [],
    locations: { configFile: `${ETC}/postgresql.conf`, hbaFile: `${DATA}/pg_hba.conf`, identFile: `${ETC}/pg_ident.conf` },
    files: [{ role: 'config_file' as const, path: `${ETC}/postgresql.conf`, text: `hba_file = '${DATA}/pg_hba.conf'\n` }],
  };
  const plan = planExternalConfig(ext, '/srv/copy', { kind: 'plain' })!;
  assert.match(plan.dataDirBlock!, /^hba_file = '\/srv\/copy\/pg_hba\.conf'$/m);
  assert.doesNotMatch(plan.dataDirBlock!, /ident_file/, 'an ident_file outside that was not stored is not invented');
  assert.throws(
    () => planExternalConfig(ext, '/srv/copy', { kind: 'plain' }, '/srv/copy/'),
    (e: unknown) => e instanceof PgkeepError && e.code === 'USAGE',
  );
  assert.equal(planExternalConfig(ext, '/srv/copy', { kind: 'plain' }, '/srv/copy/etc')!.dir, '/srv/copy/etc');
});

test("a data directory left without postgresql.conf gets a warning that says what pg_ctl needs; a Debian cluster's does not", () => {
  assert.deepEqual(missingConfigWarning('/srv/copy', { kind: 'plain' }, true), []);
  assert.match(
    missingConfigWarning('/srv/copy', { kind: 'plain' }, false)[0]!,
    /^\/srv\/copy has no postgresql\.conf: .*\(restore --start works without them/,
  );
  assert.deepEqual(
    missingConfigWarning(DATA, { kind: 'debian', cluster: { major: '15', name: 'main', configDir: ETC, dataDirectory: DATA } }, false),
    [],
  );
});

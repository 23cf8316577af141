import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigPaths, loadConfig, parseConfigText } from './load.js';
import { PgkeepError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pgkeep-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

test('flags win over environment, environment over the file', () => {
  const file = writeConfig(
    'a.toml',
    `
[repo]
path = "/from/file"
compression = "zstd:3"
[cluster.main]
connection = "host=/file user=postgres"
pgdata = "/file/pgdata"
`,
  );
  const env = { HOME: dir, PGKEEP_REPO: '/from/env', PGKEEP_PGDATA: '/env/pgdata' };
  const fromEnv = loadConfig({ config: file }, env);
  assert.equal(fromEnv.repo.path, '/from/env');
  assert.equal(fromEnv.cluster.pgdata, '/env/pgdata');
  assert.equal(fromEnv.cluster.connection, 'host=/file user=postgres');
  assert.equal(fromEnv.repo.compression, 'zstd:3');
  const fromFlags = loadConfig({ config: file, repo: '/from/flag' }, env);
  assert.equal(fromFlags.repo.path, '/from/flag');
  const fileOnly = loadConfig({ config: file }, { HOME: dir });
  assert.equal(fileOnly.repo.path, '/from/file');
});

test('PGKEEP_CONFIG is used when --config is absent', () => {
  const file = writeConfig('b.toml', '[repo]\npath = "/b"\n');
  assert.equal(loadConfig({}, { HOME: dir, PGKEEP_CONFIG: file }).repo.path, '/b');
});

test('unknown keys and wrong types name the key and the file', () => {
  const err1 = catchErr(() => parseConfigText('[repo]\npaht = "/x"\n', '/etc/x.toml'));
  assert.equal(err1.code, 'CONFIG');
  assert.match(err1.message, /unknown key "repo\.paht" in \/etc\/x\.toml/);
  const err2 = catchErr(() => parseConfigText('[cluster.main]\npgdata = 5\n', 'f.toml'));
  assert.match(err2.message, /"cluster\.main\.pgdata" in f\.toml must be a string, not an integer/);
  const err2b = catchErr(() => parseConfigText('[retention]\nkeep_last = "5"\n', 'f.toml'));
  assert.match(err2b.message, /"retention\.keep_last" in f\.toml must be an integer, not a string$/);
  const err3 = catchErr(() => parseConfigText('[nope]\n', 'f.toml'));
  assert.match(err3.message, /unknown section \[nope\]/);
  const err4 = catchErr(() => parseConfigText('[repo\n', 'f.toml'));
  assert.match(err4.message, /f\.toml is not valid TOML/);
});

test('cluster names: one rule in the config file (CONFIG), on the command line and in PGKEEP_CLUSTER (USAGE)', () => {
  for (const bad of ['../x', '..', '.hidden', '-x', 'a/b', 'a b']) {
    const inFile = catchErr(() => parseConfigText(`[cluster."${bad}"]\npgdata = "/x"\n`, 'f.toml'));
    assert.equal(inFile.code, 'CONFIG', bad);
    assert.equal(inFile.exitCode, 3);
    assert.equal(inFile.message, `invalid cluster name "${bad}" in [cluster."${bad}"] of f.toml`);
    assert.match(inFile.hint!, /letters, digits/);
    for (const [flags, env] of [
      [{ cluster: bad }, { HOME: dir }],
      [{}, { HOME: dir, PGKEEP_CLUSTER: bad }],
    ] as const) {
      const given = catchErr(() => loadConfig(flags, env));
      assert.equal(given.code, 'USAGE', bad);
      assert.equal(given.message, `invalid cluster name "${bad}"`);
    }
  }
  for (const good of ['main', 'pg15.main', '_x', '15-main']) {
    assert.doesNotThrow(() => parseConfigText(`[cluster."${good}"]\npgdata = "/x"\n`, 'f.toml'));
    assert.equal(loadConfig({ cluster: good }, { HOME: dir }).clusterName, good);
  }
});

test('a missing explicit config file is an error', () => {
  const err = catchErr(() => loadConfig({ config: join(dir, 'missing.toml') }, { HOME: dir }));
  assert.equal(err.code, 'CONFIG');
  assert.equal(err.exitCode, 3);
});

function catchErr(fn: () => unknown): PgkeepError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PgkeepError, `expected PgkeepError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

test("PGKEEP_SYSCONFDIR replaces /etc/pgkeep in the search (tests never read the machine's own file)", () => {
  const sys = join(dir, 'sysconf');
  const home = join(dir, 'emptyhome');
  const env = { HOME: home, PGKEEP_SYSCONFDIR: sys };
  assert.equal(defaultConfigPaths(env)[2], join(sys, 'pgkeep.toml'));
  assert.ok(!defaultConfigPaths(env).includes('/etc/pgkeep/pgkeep.toml'));
  assert.equal(defaultConfigPaths({ HOME: home })[2], '/etc/pgkeep/pgkeep.toml');
});

test('the test run itself is hermetic: no machine configuration is searched', () => {
  // scripts/run-tests.mjs points HOME and PGKEEP_SYSCONFDIR at empty temporary directories.
  for (const p of defaultConfigPaths().slice(1)) {
    assert.ok(!p.startsWith('/etc/pgkeep') && !p.startsWith('/root/'), `${p} is searched during tests`);
  }
});

test('empty paths are refused, never taken as the current directory: flags USAGE, environment and file CONFIG', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof PgkeepError);
      return `${e.code}: ${e.message}`;
    }
    return 'accepted';
  };
  const env = { HOME: dir };
  for (const flag of ['repo', 'pgdata', 'passphraseFile', 'config'] as const) {
    assert.match(
      code(() => loadConfig({ [flag]: '' }, env)),
      /^USAGE: .* is an empty path/,
      flag,
    );
  }
  for (const v of ['PGKEEP_REPO', 'PGKEEP_PGDATA', 'PGKEEP_PASSPHRASE_FILE', 'PGKEEP_CONFIG', 'PGKEEP_PG_BIN']) {
    assert.match(
      code(() => loadConfig({}, { ...env, [v]: '' })),
      new RegExp(`^CONFIG: ${v} is an empty path`),
      v,
    );
  }
  const file = writeConfig('empty-paths.toml', '[repo]\npath = ""\n');
  assert.match(
    code(() => loadConfig({ config: file }, env)),
    /^CONFIG: repo\.path in .*empty-paths\.toml is an empty path/,
  );
  const file2 = writeConfig('empty-pgdata.toml', '[repo]\npath = "/r"\n[cluster.main]\npgdata = " "\n');
  assert.match(
    code(() => loadConfig({ config: file2 }, env)),
    /^CONFIG: cluster\.main\.pgdata/,
  );
});

test('backup.checkpoint: fast or spread; absent means the default (fast); anything else is CONFIG naming the key', () => {
  const spread = loadConfig({ config: writeConfig('cp1.toml', '[backup]\ncheckpoint = "spread"\n') }, { HOME: dir });
  assert.equal(spread.backup.checkpoint, 'spread');
  assert.equal(loadConfig({ config: writeConfig('cp2.toml', '[repo]\npath = "/x"\n') }, { HOME: dir }).backup.checkpoint, undefined);
  const file = writeConfig('cp3.toml', '[backup]\ncheckpoint = "immediate"\n');
  assert.throws(
    () => loadConfig({ config: file }, { HOME: dir }),
    (e: unknown) =>
      e instanceof PgkeepError &&
      e.code === 'CONFIG' &&
      e.message.includes(`backup.checkpoint in ${file}`) &&
      /"fast" or "spread"/.test(e.message),
  );
});

test('[restore] prefetch: segments restore_command keeps ahead, 0 (off) to 1000', () => {
  const home = { HOME: '/nonexistent' };
  assert.equal(loadConfig({ config: writeConfig('p0.toml', '[restore]\nprefetch = 0\n') }, home).restore.prefetch, 0);
  assert.equal(loadConfig({ config: writeConfig('p16.toml', '[restore]\nprefetch = 16\n') }, home).restore.prefetch, 16);
  assert.equal(loadConfig({ config: writeConfig('none.toml', '[repo]\npath = "/r"\n') }, home).restore.prefetch, undefined);
  const err = catchErr(() => loadConfig({ config: writeConfig('neg.toml', '[restore]\nprefetch = -1\n') }, home));
  assert.equal(err.code, 'CONFIG');
  assert.match(err.message, /restore\.prefetch in .*neg\.toml must be from 0 \(off\) to 1000 segments, got -1/);
});

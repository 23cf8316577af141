/**
 * CLI conventions, through the real entry point: `node bin/pgkeep.js ...` in a clean
 * environment (no PGKEEP_* or PG* variables, HOME and the working directory in a temp dir).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const BIN = join(ROOT, 'bin', 'pgkeep.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const home = mkdtempSync(join(tmpdir(), 'pgkeep-cli-'));
const work = join(home, 'work');
mkdirSync(work);
after(() => rmSync(home, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PGKEEP_|PG)/.test(k)) env[k] = v;
  return { ...env, HOME: home, ...extra };
}

function pgkeep(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? work,
      env: cleanEnv(opts.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

function writeConfig(name: string, text: string): string {
  const p = join(home, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  return p;
}

async function showJson(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<any> {
  const r = await pgkeep(['--json', ...args, 'config', 'show'], { env, cwd });
  assert.equal(r.code, 0, `config show failed: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('--version prints the package version', async () => {
  const r = await pgkeep(['--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), VERSION);
  const short = await pgkeep(['-V']);
  assert.equal(short.stdout.trim(), VERSION);
});

test('--help lists the global options and points at the exit codes', async () => {
  const r = await pgkeep(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const opt of [
    '--config <file>',
    '--cluster <name>',
    '--repo <path-or-url>',
    '--pgdata <dir>',
    '-d, --connection <conninfo>',
    '--json',
    '--log-level <level>',
    '--passphrase-file <file>',
    '--version',
    '--help',
  ]) {
    assert.ok(r.stdout.includes(opt), `--help mentions ${opt}`);
  }
  assert.match(r.stdout, /Examples:/);
  assert.match(r.stdout, /docs\/exit-codes\.md/);
  assert.match(r.stdout, /config/, 'commands are listed');
});

test('command help has examples', async () => {
  const r = await pgkeep(['config', 'show', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Examples:\n\s+pgkeep config show/);
});

test('an unknown flag or command exits 2 with a message on stderr and nothing on stdout', async () => {
  const r = await pgkeep(['--bogus', 'config', 'show']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /unknown option '--bogus'/);
  assert.equal(r.stdout, '');
  const sub = await pgkeep(['config', 'show', '--nope']);
  assert.equal(sub.code, 2, sub.stderr);
  assert.match(sub.stderr, /unknown option '--nope'/);
  const cmd = await pgkeep(['no-such-command']);
  assert.equal(cmd.code, 2, cmd.stderr);
  assert.match(cmd.stderr, /unknown command 'no-such-command'/);
  const level = await pgkeep(['--log-level', 'loud', 'config', 'show']);
  assert.equal(level.code, 2, level.stderr);
  assert.match(level.stderr, /loud/);
});

test('--json prints errors as a JSON object with error.code and exitCode', async () => {
  const usage = await pgkeep(['--json', '--bogus']);
  assert.equal(usage.code, 2, usage.stderr);
  const u = JSON.parse(usage.stdout);
  assert.equal(u.error.code, 'USAGE');
  assert.equal(u.error.exitCode, 2);
  assert.match(u.error.message, /--bogus/);
  const missing = await pgkeep(['--json', '--config', join(home, 'missing.toml'), 'config', 'show']);
  assert.equal(missing.code, 3, missing.stderr);
  const m = JSON.parse(missing.stdout);
  assert.equal(m.error.code, 'CONFIG');
  assert.match(m.error.message, /missing\.toml/);
  assert.equal(missing.stderr, '');
});

test('a bad config file exits 3 naming the key and the file', async () => {
  const unknownKey = writeConfig('bad-key.toml', '[repo]\npath = "/x"\ncompresion = "zstd"\n');
  const r1 = await pgkeep(['--config', unknownKey, 'config', 'show']);
  assert.equal(r1.code, 3, r1.stderr);
  assert.match(r1.stderr, /unknown key "repo\.compresion" in .*bad-key\.toml/);
  assert.match(r1.stderr, /hint: known keys in \[repo\]: .*compression/);
  const wrongType = writeConfig('bad-type.toml', '[cluster.main]\npgdata = 15\n');
  const r2 = await pgkeep(['--config', wrongType, 'config', 'show']);
  assert.equal(r2.code, 3, r2.stderr);
  assert.match(r2.stderr, /"cluster\.main\.pgdata" in .*bad-type\.toml must be a string/);
  const badToml = writeConfig('bad-syntax.toml', '[repo\npath = 1\n');
  const r3 = await pgkeep(['--json', '--config', badToml, 'config', 'show']);
  assert.equal(r3.code, 3, r3.stderr);
  assert.equal(JSON.parse(r3.stdout).error.details.file, badToml);
  const badConn = writeConfig('bad-conn.toml', '[cluster.main]\nconnection = "host=x passwrd=secret"\n');
  const r4 = await pgkeep(['--config', badConn, 'config', 'show']);
  assert.equal(r4.code, 3, r4.stderr);
  assert.match(r4.stderr, /unknown option "passwrd"/);
  assert.doesNotMatch(r4.stderr, /secret/);
});

test('config precedence through the CLI: flag > environment > file', async () => {
  const file = writeConfig(
    'prec.toml',
    `
[repo]
path = "/from/file"
compression = "zstd:3"
[cluster.main]
connection = "host=/file/socket user=fileuser"
pgdata = "/file/pgdata"
[cluster.other]
pgdata = "/other/pgdata"
`,
  );
  const fileOnly = await showJson(['--config', file]);
  assert.equal(fileOnly.file, file);
  assert.equal(fileOnly.repo.path, '/from/file');
  assert.equal(fileOnly.repo.compression, 'zstd:3');
  assert.equal(fileOnly.pgdata, '/file/pgdata');
  assert.equal(fileOnly.connection.resolved, 'host=/file/socket port=5432 user=fileuser dbname=fileuser');
  assert.deepEqual(fileOnly.clustersInFile, ['main', 'other']);

  const env = { PGKEEP_REPO: '/from/env', PGKEEP_PGDATA: '/env/pgdata', PGKEEP_CONNECTION: 'host=/env/socket user=envuser' };
  const fromEnv = await showJson(['--config', file], env);
  assert.equal(fromEnv.repo.path, '/from/env');
  assert.equal(fromEnv.pgdata, '/env/pgdata');
  assert.equal(fromEnv.connection.setting, 'host=/env/socket user=envuser');
  assert.equal(fromEnv.repo.compression, 'zstd:3', 'keys the environment does not set still come from the file');

  const fromFlags = await showJson(
    ['--config', file, '--repo', '/from/flag', '--pgdata', '/flag/pgdata', '-d', 'postgresql://flaguser@flaghost:6000/db'],
    env,
  );
  assert.equal(fromFlags.repo.path, '/from/flag');
  assert.equal(fromFlags.pgdata, '/flag/pgdata');
  assert.equal(fromFlags.connection.resolved, 'host=flaghost port=6000 user=flaguser dbname=db');

  // --cluster beats PGKEEP_CLUSTER, which beats the default "main"
  assert.equal((await showJson(['--config', file], { PGKEEP_CLUSTER: 'other' })).pgdata, '/other/pgdata');
  assert.equal((await showJson(['--config', file, '--cluster', 'main'], { PGKEEP_CLUSTER: 'other' })).pgdata, '/file/pgdata');

  // --log-level beats PGKEEP_LOG_LEVEL
  assert.equal((await showJson(['--config', file], { PGKEEP_LOG_LEVEL: 'debug' })).logLevel, 'debug');
  assert.equal((await showJson(['--config', file, '--log-level', 'warn'], { PGKEEP_LOG_LEVEL: 'debug' })).logLevel, 'warn');
});

test('the config file is found by --config, PGKEEP_CONFIG, ./pgkeep.toml, then ~/.config/pgkeep/pgkeep.toml', async () => {
  const userFile = writeConfig('.config/pgkeep/pgkeep.toml', '[repo]\npath = "/user"\n');
  assert.equal((await showJson([])).file, userFile);
  const cwdDir = join(home, 'cwd');
  mkdirSync(cwdDir, { recursive: true });
  const cwdFile = join(cwdDir, 'pgkeep.toml');
  writeFileSync(cwdFile, '[repo]\npath = "/cwd"\n');
  assert.equal((await showJson([], {}, cwdDir)).repo.path, '/cwd');
  const envFile = writeConfig('env.toml', '[repo]\npath = "/env-file"\n');
  assert.equal((await showJson([], { PGKEEP_CONFIG: envFile }, cwdDir)).repo.path, '/env-file');
  const flagFile = writeConfig('flag.toml', '[repo]\npath = "/flag-file"\n');
  assert.equal((await showJson(['--config', flagFile], { PGKEEP_CONFIG: envFile }, cwdDir)).repo.path, '/flag-file');
  rmSync(userFile);
});

test('libpq environment variables fill what the connection setting leaves out', async () => {
  const r = await showJson(['-d', 'dbname=app'], { PGHOST: 'pg.example.com', PGPORT: '6543', PGUSER: 'alice', PGPASSWORD: 'hunter2' });
  assert.equal(r.connection.resolved, 'host=pg.example.com port=6543 user=alice dbname=app');
  assert.equal(r.connection.password, 'from PGPASSWORD');
});

test('passwords and passphrases never appear in the output', async () => {
  const file = writeConfig(
    'secret.toml',
    `
[cluster.main]
connection = "postgresql://alice:s3cretPW@db.example.com/app?sslmode=require"
`,
  );
  const env = { PGKEEP_PASSPHRASE: 'pass-phrase-xyz' };
  const text = await pgkeep(['--config', file, 'config', 'show'], { env });
  const json = await pgkeep(['--json', '--config', file, 'config', 'show'], { env });
  for (const r of [text, json]) {
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /s3cretPW|pass-phrase-xyz/);
  }
  assert.match(text.stdout, /postgresql:\/\/alice:\*{8}@db\.example\.com\/app\?sslmode=require/);
  assert.match(text.stdout, /password\s+from the connection string/);
  assert.equal(JSON.parse(json.stdout).passphrase, 'from PGKEEP_PASSPHRASE');
});

test('a backup --label over 1024 bytes, or with a line break, is USAGE (2) before anything is opened or connected', async () => {
  const dead = ['--repo', join(home, 'no-repo'), '-d', `host=${join(home, 'no-socket')} user=nobody`];
  const long = await pgkeep([...dead, 'backup', '--label', 'x'.repeat(1025)]);
  assert.equal(long.code, 2, long.stderr);
  assert.match(long.stderr, /--label is 1025 bytes long; PostgreSQL takes at most 1024/);
  const wide = await pgkeep([...dead, 'backup', '--label', 'é'.repeat(513)]); // 1026 bytes in 513 characters
  assert.equal(wide.code, 2, wide.stderr);
  const twoLines = await pgkeep([...dead, 'backup', '--label', 'nightly\nLABEL: forged']);
  assert.equal(twoLines.code, 2, twoLines.stderr);
  assert.match(twoLines.stderr, /line break/);
  const fits = await pgkeep([...dead, 'backup', '--label', 'x'.repeat(1024)]);
  assert.notEqual(fits.code, 2, `a 1024-byte label is accepted (the run fails later, on the missing repository): ${fits.stderr}`);
});

test('expire: --keep-days 0 turns off the keep_days of the config file (and --keep-last 0 keep_last)', async () => {
  const repo = join(home, 'expire-repo');
  const config = writeConfig('expire.toml', `[repo]\npath = "${repo}"\n[retention]\nkeep_last = 7\nkeep_days = 14\n`);
  const init = await pgkeep(['--config', config, 'repo', 'init']);
  assert.equal(init.code, 0, init.stderr);
  const policyOf = async (...flags: string[]) => {
    const r = await pgkeep(['--json', '--config', config, 'expire', '--dry-run', ...flags]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return JSON.parse(r.stdout).policy;
  };
  assert.deepEqual(await policyOf(), { keepLast: 7, keepDays: 14 });
  assert.deepEqual(await policyOf('--keep-days', '0'), { keepLast: 7 });
  assert.deepEqual(await policyOf('--keep-last', '0', '--keep-days', '3'), { keepDays: 3 });
  const bad = await pgkeep(['--config', config, 'expire', '--dry-run', '--keep-days', '-1']);
  assert.equal(bad.code, 2, bad.stderr);
});

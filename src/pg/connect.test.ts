import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from './local-cluster.js';
import { connect, withClient } from './connect.js';
import { PgkeepError } from '../errors.js';

let c: LocalCluster;
const dir = mkdtempSync(join(tmpdir(), 'pgkeep-connect-'));
const SCRAM_PW = "Scr@m p:w/'x";
const MD5_PW = 'md5-secret';

before(async () => {
  c = await LocalCluster.create();
  await c.setHba([
    'local all scram_user scram-sha-256',
    'local all md5_user md5',
    'host all scram_user 127.0.0.1/32 scram-sha-256',
    'host all md5_user 127.0.0.1/32 md5',
    'host replication repl 127.0.0.1/32 scram-sha-256',
    'host all repl 127.0.0.1/32 scram-sha-256',
    'host all norole 127.0.0.1/32 trust',
  ]);
  await c.start();
  await c.exec(`
    set password_encryption = 'scram-sha-256';
    create role scram_user login password '${SCRAM_PW.replace(/'/g, "''")}';
    create role repl login replication password 'repl-pw';
    set password_encryption = 'md5';
    create role md5_user login password '${MD5_PW}';
  `);
});

after(async () => {
  await c?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** Environment with no PG* variables and no ~/.pgpass, so tests see only what they set. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { HOME: dir, PGPASSFILE: join(dir, 'no-pgpass'), ...extra };
}

async function currentUser(settings: { connection: string }, e: NodeJS.ProcessEnv, database?: string): Promise<string> {
  return withClient(settings, { env: e, database }, async (cl) => (await cl.query('select current_user as u')).rows[0].u);
}

async function failure(p: Promise<unknown>): Promise<PgkeepError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PgkeepError, `expected PgkeepError, got ${e}`);
    return e;
  }
  assert.fail('expected the connection to fail');
}

function assertNoSecret(e: PgkeepError, ...secrets: string[]): void {
  const text = `${e.message}\n${e.hint}\n${JSON.stringify(e.toJSON())}`;
  for (const s of secrets) assert.ok(!text.includes(s), `error output must not contain the password: ${text}`);
}

test('scram-sha-256 over TCP with the password in a URI (percent-encoded)', async () => {
  const uri = `postgresql://scram_user:${encodeURIComponent(SCRAM_PW)}@127.0.0.1:${c.port}/postgres`;
  assert.equal(await currentUser({ connection: uri }, env()), 'scram_user');
});

test('scram-sha-256 over the unix socket with PGPASSWORD, host from PGHOST', async () => {
  const e = env({ PGHOST: c.socketDir, PGPORT: String(c.port), PGUSER: 'scram_user', PGDATABASE: 'postgres', PGPASSWORD: SCRAM_PW });
  assert.equal(await currentUser({ connection: '' }, e), 'scram_user');
});

test('md5 over TCP and over the socket with the password from .pgpass', async () => {
  const pgpass = join(dir, 'pgpass');
  writeFileSync(
    pgpass,
    [`127.0.0.1:${c.port}:*:md5_user:${MD5_PW}`, `${c.socketDir.replace(/:/g, '\\:')}:${c.port}:postgres:md5_user:${MD5_PW}`].join('\n') +
      '\n',
    { mode: 0o600 },
  );
  const e = env({ PGPASSFILE: pgpass });
  assert.equal(await currentUser({ connection: `host=127.0.0.1 port=${c.port} user=md5_user dbname=postgres` }, e), 'md5_user');
  assert.equal(await currentUser({ connection: `host=${c.socketDir} port=${c.port} user=md5_user dbname=postgres` }, e), 'md5_user');
});

test('a .pgpass readable by others is ignored, and the error says no password was given', async () => {
  const loose = join(dir, 'pgpass-loose');
  writeFileSync(loose, `*:*:*:md5_user:${MD5_PW}\n`, { mode: 0o644 });
  const warnings: string[] = [];
  const err = await failure(
    connect(
      { connection: `host=127.0.0.1 port=${c.port} user=md5_user dbname=postgres` },
      { env: env({ PGPASSFILE: loose }), onWarning: (w) => warnings.push(w) },
    ),
  );
  assert.equal(err.code, 'CONNECTION');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /group or world access/);
  assert.match(err.message, /asked for a password for user "md5_user" and none was given/);
  assert.match(err.hint ?? '', /pgpass/);
});

test('a wrong password fails with CONNECTION, naming the user but not the password', async () => {
  const err = await failure(
    connect({ connection: `host=127.0.0.1 port=${c.port} user=scram_user dbname=postgres password=Wr0ngPa55` }, { env: env() }),
  );
  assert.equal(err.code, 'CONNECTION');
  assert.equal(err.exitCode, 4);
  assert.match(err.message, /password authentication failed for user "scram_user"/);
  assert.match(err.message, new RegExp(`host=127\\.0\\.0\\.1 port=${c.port} user=scram_user dbname=postgres`));
  assert.match(err.hint ?? '', /connection string/);
  assertNoSecret(err, 'Wr0ngPa55');
});

test('no pg_hba.conf entry for replication: the hint is the line to add', async () => {
  const err = await failure(
    connect({ connection: `host=127.0.0.1 port=${c.port} user=scram_user dbname=postgres password=x` }, { env: env(), replication: true }),
  );
  assert.equal(err.code, 'CONNECTION');
  assert.match(err.message, /no entry admitting a replication connection for user "scram_user" from 127\.0\.0\.1/);
  assert.match(err.hint ?? '', /host replication scram_user 127\.0\.0\.1\/32 scram-sha-256/);
  const err2 = await failure(connect({ connection: `host=127.0.0.1 port=${c.port} user=nobody dbname=postgres` }, { env: env() }));
  assert.match(err2.hint ?? '', /host postgres nobody 127\.0\.0\.1\/32 scram-sha-256/);
});

test('a replication connection opens a walsender (IDENTIFY_SYSTEM works)', async () => {
  const client = await connect(
    { connection: `host=127.0.0.1 port=${c.port} user=repl password=repl-pw` },
    { env: env(), replication: true },
  );
  try {
    const r = await client.query('IDENTIFY_SYSTEM');
    const sysid = (await c.controlData())['Database system identifier'];
    assert.equal(r.rows[0].systemid, sysid);
  } finally {
    await client.end();
  }
  const logical = await connect(
    { connection: `host=127.0.0.1 port=${c.port} user=repl password=repl-pw dbname=postgres` },
    { env: env(), replication: 'database' },
  );
  try {
    const r = await logical.query('IDENTIFY_SYSTEM');
    assert.equal(r.rows[0].dbname, 'postgres');
  } finally {
    await logical.end();
  }
});

test('a missing database is NOT_FOUND; a missing role too', async () => {
  const err = await failure(connect(c.connectionSettings('no_such_db'), { env: env() }));
  assert.equal(err.code, 'NOT_FOUND');
  assert.match(err.message, /database "no_such_db" does not exist/);
  const err2 = await failure(connect({ connection: `host=127.0.0.1 port=${c.port} user=norole dbname=postgres` }, { env: env() }));
  assert.equal(err2.code, 'NOT_FOUND');
  assert.match(err2.message, /role "norole" does not exist/);
});

test('no server: the message names the socket or host and port that were tried', async () => {
  const err = await failure(connect({ connection: `host=${c.socketDir} port=1 user=postgres` }, { env: env() }));
  assert.equal(err.code, 'CONNECTION');
  assert.match(err.message, new RegExp(`no server socket ${c.socketDir.replace(/[/.]/g, '\\$&')}/\\.s\\.PGSQL\\.1`));
  const err2 = await failure(connect({ connection: 'host=127.0.0.1 port=1 user=postgres' }, { env: env() }));
  assert.match(err2.message, /connection refused at 127\.0\.0\.1:1/);
  assert.match(err2.hint ?? '', /is the server running/);
});

test('sslmode: prefer falls back to plain on a server without SSL, require refuses', async () => {
  const conn = `host=127.0.0.1 port=${c.port} user=scram_user dbname=postgres password='${SCRAM_PW.replace(/'/g, "\\'")}'`;
  assert.equal(await currentUser({ connection: `${conn} sslmode=prefer` }, env()), 'scram_user');
  const err = await failure(connect({ connection: `${conn} sslmode=require` }, { env: env() }));
  assert.equal(err.code, 'CONNECTION');
  assert.match(err.message, /does not accept SSL/);
  assertNoSecret(err, SCRAM_PW);
});

test('withClient closes the connection, also when the function throws; application_name is set', async () => {
  const settings = { connection: `${c.connectionString()} application_name=pgkeep-withclient` };
  await assert.rejects(
    withClient(settings, { env: env() }, async (cl) => {
      const r = await cl.query('select current_setting($1) as a', ['application_name']);
      assert.equal(r.rows[0].a, 'pgkeep-withclient');
      throw new Error('boom');
    }),
    /boom/,
  );
  // the backend may take a moment to leave pg_stat_activity
  let n = -1;
  for (let i = 0; i < 50 && n !== 0; i++) {
    n = Number((await c.query("select count(*) as n from pg_stat_activity where application_name = 'pgkeep-withclient'"))[0].n);
    if (n) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(n, 0);
  const name = await withClient(
    c.connectionSettings(),
    { env: env(), applicationName: 'pgkeep-test' },
    async (cl) => (await cl.query("select current_setting('application_name') as a")).rows[0].a,
  );
  assert.equal(name, 'pgkeep-test');
});

test('an aborted signal stops the connection attempt with INTERRUPTED', async () => {
  const ac = new AbortController();
  ac.abort();
  const err = await failure(connect(c.connectionSettings(), { env: env(), signal: ac.signal }));
  assert.equal(err.code, 'INTERRUPTED');
});

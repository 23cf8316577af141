import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describeConnection, resolveConnection, sslOptions } from './connect.js';
import { lookupPgpass, parsePgpassLine, readPgpass } from './pgpass.js';
import { connectionError, suggestHbaLine } from './connect-errors.js';
import { PgkeepError } from '../errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pgkeep-connect-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const noPgpass = join(dir, 'none');

function err(fn: () => unknown): PgkeepError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PgkeepError, `expected PgkeepError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

test('defaults: default socket directory, 5432, the OS user, database = user, sslmode prefer', () => {
  const p = resolveConnection({}, { env: { HOME: dir } });
  assert.equal(p.host, '/var/run/postgresql');
  assert.equal(p.isSocket, true);
  assert.equal(p.port, 5432);
  assert.equal(p.user, userInfo().username);
  assert.equal(p.database, p.user);
  assert.equal(p.sslmode, 'prefer');
  assert.equal(p.password, undefined);
});

test('the connection string wins over PG* variables, which win over defaults', () => {
  const env = {
    HOME: dir,
    PGHOST: 'envhost',
    PGPORT: '6000',
    PGUSER: 'envuser',
    PGDATABASE: 'envdb',
    PGSSLMODE: 'require',
    PGAPPNAME: 'envapp',
    PGCONNECT_TIMEOUT: '1',
  };
  const fromEnv = resolveConnection({}, { env });
  assert.deepEqual(
    [fromEnv.host, fromEnv.port, fromEnv.user, fromEnv.database, fromEnv.sslmode, fromEnv.applicationName, fromEnv.connectTimeout],
    ['envhost', 6000, 'envuser', 'envdb', 'require', 'envapp', 2],
  );
  const mixed = resolveConnection({ connection: 'host=/tmp/s user=alice sslmode=disable' }, { env });
  assert.deepEqual(
    [mixed.host, mixed.isSocket, mixed.port, mixed.user, mixed.database, mixed.sslmode],
    ['/tmp/s', true, 6000, 'alice', 'envdb', 'disable'],
  );
  const uri = resolveConnection({ connection: 'postgresql://bob@db.example.com:7000/app' }, { env });
  assert.deepEqual([uri.host, uri.isSocket, uri.port, uri.user, uri.database], ['db.example.com', false, 7000, 'bob', 'app']);
  // an explicit database (e.g. --database) wins over everything
  assert.equal(resolveConnection({ connection: 'dbname=x' }, { env, database: 'y' }).database, 'y');
  // database defaults to the user
  assert.equal(resolveConnection({ connection: 'user=carol' }, { env: { HOME: dir } }).database, 'carol');
});

test('passwords: connection string, then PGPASSWORD, then the password file; never enumerable', () => {
  const pgpass = join(dir, 'pgpass');
  writeFileSync(pgpass, 'h:5432:*:u:from-file\n', { mode: 0o600 });
  const base = { HOME: dir, PGPASSFILE: pgpass };
  const a = resolveConnection({ connection: 'host=h user=u password=from-conn' }, { env: { ...base, PGPASSWORD: 'from-env' } });
  assert.equal(a.password, 'from-conn');
  assert.equal(a.passwordSource, 'the connection string');
  const b = resolveConnection({ connection: 'host=h user=u' }, { env: { ...base, PGPASSWORD: 'from-env' } });
  assert.equal(b.password, 'from-env');
  assert.equal(b.passwordSource, 'PGPASSWORD');
  const c = resolveConnection({ connection: 'host=h user=u' }, { env: base });
  assert.equal(c.password, 'from-file');
  assert.equal(c.passwordSource, pgpass);
  // passfile= in the connection string beats PGPASSFILE
  const other = join(dir, 'other');
  writeFileSync(other, '*:*:*:*:from-other\n', { mode: 0o600 });
  assert.equal(resolveConnection({ connection: `host=h user=u passfile=${other}` }, { env: base }).password, 'from-other');
  for (const p of [a, b, c]) {
    assert.doesNotMatch(JSON.stringify(p), /from-/);
    assert.doesNotMatch(describeConnection(p), /from-|password/);
  }
  assert.equal(describeConnection(c), 'host=h port=5432 user=u dbname=u');
});

test('bad values name their source', () => {
  const e1 = err(() => resolveConnection({}, { env: { PGPORT: 'abc', PGPASSFILE: noPgpass } }));
  assert.equal(e1.code, 'CONFIG');
  assert.match(e1.message, /invalid port "abc" \(from PGPORT\)/);
  const e2 = err(() => resolveConnection({ connection: 'port=99999' }, { env: { PGPASSFILE: noPgpass } }));
  assert.match(e2.message, /from port= in the connection string/);
  const e3 = err(() => resolveConnection({ connection: 'sslmode=maybe' }, { env: { PGPASSFILE: noPgpass } }));
  assert.match(e3.message, /invalid sslmode "maybe"/);
  const e4 = err(() => resolveConnection({ connection: 'postgresql://a,b/db' }, { env: { PGPASSFILE: noPgpass } }));
  assert.equal(e4.code, 'UNSUPPORTED');
  const e5 = err(() => resolveConnection({ connection: 'host=x bogus=1' }, {}));
  assert.match(e5.message, /unknown option "bogus"/);
});

test('.pgpass: wildcards, escapes, first match wins, default socket counts as localhost', () => {
  const text = [
    '# comment',
    'db.example.com:5432:app:alice:first',
    'db.example.com:5432:app:alice:second',
    'db.example.com:*:*:bob:pw\\:with\\:colons\\\\',
    'localhost:5432:*:carol:local-pw',
    '/tmp/sock:5433:*:carol:sock-pw',
    'host\\:odd:5432:*:*:odd',
    '*:*:*:*:fallback',
  ].join('\n');
  const q = (host: string, user: string, port = 5432, database = 'app') => lookupPgpass(text, { host, port, database, user });
  assert.equal(q('db.example.com', 'alice'), 'first');
  assert.equal(q('db.example.com', 'bob', 6543, 'other'), 'pw:with:colons\\');
  assert.equal(q('/var/run/postgresql', 'carol'), 'local-pw');
  assert.equal(q('localhost', 'carol'), 'local-pw');
  assert.equal(q('/tmp/sock', 'carol', 5433), 'sock-pw');
  assert.equal(q('host:odd', 'zed'), 'odd');
  assert.equal(q('elsewhere', 'zed'), 'fallback');
  assert.equal(lookupPgpass('a:1:b:c\n', { host: 'a', port: 1, database: 'b', user: 'c' }), undefined, 'short lines are ignored');
  assert.deepEqual(parsePgpassLine('h:1:d:u:pw:rest'), ['h', '1', 'd', 'u', 'pw']);
});

test('.pgpass readable by group or others is ignored with a warning, like libpq', () => {
  const loose = join(dir, 'loose');
  writeFileSync(loose, '*:*:*:*:pw\n', { mode: 0o644 });
  const r = readPgpass(loose, { host: 'h', port: 5432, database: 'd', user: 'u' });
  assert.equal(r.password, undefined);
  assert.match(r.warning ?? '', /group or world access.*chmod 0600/);
  const p = resolveConnection({ connection: 'host=h user=u' }, { env: { PGPASSFILE: loose } });
  assert.equal(p.password, undefined);
  assert.equal(p.warnings.length, 1);
  assert.deepEqual(readPgpass(join(dir, 'missing'), { host: 'h', port: 1, database: 'd', user: 'u' }), {});
});

test('sslmode maps onto node-postgres ssl options', () => {
  const env = { HOME: dir, PGPASSFILE: noPgpass };
  const ssl = (conn: string) => sslOptions(resolveConnection({ connection: conn }, { env }), env);
  assert.equal(ssl('host=h sslmode=disable'), false);
  assert.equal(ssl('host=h sslmode=allow'), false);
  assert.equal(ssl('host=/tmp sslmode=require'), false, 'no SSL on unix sockets');
  assert.deepEqual(ssl('host=h sslmode=require'), { rejectUnauthorized: false });
  assert.deepEqual(ssl('host=h'), { rejectUnauthorized: false }, 'prefer tries SSL first');
  const e = err(() => ssl('host=h sslmode=verify-full'));
  assert.equal(e.code, 'CONFIG');
  assert.match(e.message, /root\.crt does not exist/);
  const ca = join(dir, 'ca.crt');
  writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
  const full = ssl(`host=db.example.com sslmode=verify-full sslrootcert=${ca}`) as Record<string, unknown>;
  assert.equal(full.rejectUnauthorized, true);
  assert.equal(full.servername, 'db.example.com');
  assert.match(String(full.ca), /BEGIN CERTIFICATE/);
  const vca = ssl(`host=db.example.com sslmode=verify-ca sslrootcert=${ca}`) as Record<string, any>;
  assert.equal(vca.rejectUnauthorized, true);
  assert.equal(typeof vca.checkServerIdentity, 'function');
  // libpq: require with a root certificate present verifies the CA
  assert.equal((ssl(`host=h sslmode=require sslrootcert=${ca}`) as Record<string, unknown>).rejectUnauthorized, true);
  const e2 = err(() => ssl(`host=h sslmode=require sslcert=${join(dir, 'nope.crt')}`));
  assert.match(e2.message, /cannot read client certificate/);
});

test('suggested pg_hba lines', () => {
  const env = { HOME: dir, PGPASSFILE: noPgpass };
  const tcp = resolveConnection({ connection: 'host=db user=backup dbname=app' }, { env });
  assert.equal(suggestHbaLine(tcp, true, '10.0.0.5'), 'host replication backup 10.0.0.5/32 scram-sha-256');
  assert.equal(suggestHbaLine(tcp, undefined, '10.0.0.5'), 'host app backup 10.0.0.5/32 scram-sha-256');
  assert.equal(suggestHbaLine(tcp, 'database', '::1'), 'host app backup ::1/128 scram-sha-256');
  const sock = resolveConnection({ connection: 'host=/tmp user=backup' }, { env });
  assert.equal(suggestHbaLine(sock, true, '[local]'), 'local replication backup scram-sha-256');
});

test('.pgpass: a physical replication connection matches the database field "replication", like libpq', () => {
  const file = join(dir, 'pgpass-repl');
  writeFileSync(file, 'h:5432:replication:u:repl-secret\nh:5432:postgres:u:db-secret\n', { mode: 0o600 });
  const env = { HOME: dir, PGPASSFILE: file };
  const settings = { connection: 'host=h port=5432 user=u dbname=postgres' };
  assert.equal(resolveConnection(settings, { env, replication: true }).password, 'repl-secret');
  assert.equal(resolveConnection(settings, { env }).password, 'db-secret');
  assert.equal(resolveConnection(settings, { env, replication: 'database' }).password, 'db-secret');
});

test('authentication refusals get real fixes, not "see the server log"', () => {
  const p = resolveConnection({ connection: 'host=/var/run/postgresql port=5432 user=postgres dbname=postgres' }, { env: { HOME: dir } });
  const err = (message: string) => connectionError(Object.assign(new Error(message), { code: '28000' }), p);
  const peer = err('Peer authentication failed for user "postgres"');
  const me = userInfo().username;
  assert.match(peer.hint!, /1\. run pgkeep as that OS user: sudo -u postgres pgkeep \.\.\./);
  assert.match(
    peer.hint!,
    /2\. connect over TCP with a password: -d "host=127\.0\.0\.1 port=5432 user=postgres dbname=postgres" and a line 127\.0\.0\.1:5432:\*:postgres:PASSWORD in ~\/\.pgpass/,
  );
  assert.match(peer.hint!, new RegExp(`3\\. map the OS user "${me}" to the role: add "pgkeep   ${me}   postgres`));
  assert.match(err('Ident authentication failed for user "postgres"').hint!, /"map=pgkeep" to the ident line/);
  const rejected = err('pg_hba.conf rejects connection for host "[local]", user "postgres", database "postgres", no encryption');
  assert.match(rejected.hint!, /a "reject" line of pg_hba\.conf matches this connection first/);
  assert.match(rejected.hint!, /local postgres postgres scram-sha-256/);
  assert.match(err('role "postgres" is not permitted to log in').hint!, /ALTER ROLE "postgres" LOGIN;/);
  for (const e of [peer, rejected]) assert.doesNotMatch(e.hint!, /see the server log/);
});

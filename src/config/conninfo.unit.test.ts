import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConnInfo, parseConnInfo, redactConnInfo } from './conninfo.js';
import { PgkeepError } from '../errors.js';

function err(fn: () => unknown): PgkeepError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PgkeepError, `expected PgkeepError, got ${e}`);
    return e;
  }
  assert.fail('expected an error');
}

test('key=value: spaces around "=", quotes, backslash escapes', () => {
  assert.deepEqual(parseConnInfo('host=/var/run/postgresql port=5433 user=postgres'), {
    host: '/var/run/postgresql',
    port: '5433',
    user: 'postgres',
  });
  assert.deepEqual(parseConnInfo('  host = db.example.com\tdbname =app  '), { host: 'db.example.com', dbname: 'app' });
  assert.deepEqual(parseConnInfo("password='it\\'s a \\\\ secret' user='a b'"), { password: "it's a \\ secret", user: 'a b' });
  assert.deepEqual(parseConnInfo('password=a\\ b\\\\c'), { password: 'a b\\c' });
  assert.deepEqual(parseConnInfo("dbname=''"), { dbname: '' });
  assert.deepEqual(parseConnInfo("options='-c search_path=x'"), { options: '-c search_path=x' });
  assert.deepEqual(parseConnInfo(''), {});
  // later keys win, as in libpq
  assert.deepEqual(parseConnInfo('port=1 port=2'), { port: '2' });
});

test('key=value errors name the bad part but never the password', () => {
  const e1 = err(() => parseConnInfo('mydb'));
  assert.equal(e1.code, 'CONFIG');
  assert.match(e1.message, /missing "=" after "mydb"/);
  assert.match(e1.hint ?? '', /dbname=mydb/);
  const e2 = err(() => parseConnInfo("user='unterminated"));
  assert.match(e2.message, /unterminated quoted value for "user"/);
  const e3 = err(() => parseConnInfo('hots=x'));
  assert.match(e3.message, /unknown option "hots"/);
  const e4 = err(() => parseConnInfo('password=top secret host=x'));
  assert.doesNotMatch(e4.message + (e4.hint ?? ''), /secret|top/);
  assert.match(e4.message, /after the value of "password"/);
  const e5 = err(() => parseConnInfo("password='s3cr3t"));
  assert.doesNotMatch(e5.message, /s3cr3t/);
  const e6 = err(() => parseConnInfo('=x'));
  assert.match(e6.message, /without a key/);
});

test('URIs: user, password, host, port, database, parameters', () => {
  assert.deepEqual(parseConnInfo('postgresql://'), {});
  assert.deepEqual(parseConnInfo('postgres://alice:pw@db.example.com:6432/app?sslmode=require&application_name=x'), {
    user: 'alice',
    password: 'pw',
    host: 'db.example.com',
    port: '6432',
    dbname: 'app',
    sslmode: 'require',
    application_name: 'x',
  });
  assert.deepEqual(parseConnInfo('postgresql://localhost'), { host: 'localhost' });
  assert.deepEqual(parseConnInfo('postgresql:///mydb'), { dbname: 'mydb' });
  assert.deepEqual(parseConnInfo('postgresql://%2Fvar%2Frun%2Fpostgresql:5433/db'), {
    host: '/var/run/postgresql',
    port: '5433',
    dbname: 'db',
  });
  assert.deepEqual(parseConnInfo('postgresql:///db?host=/tmp/sock&port=5499'), { host: '/tmp/sock', port: '5499', dbname: 'db' });
  assert.deepEqual(parseConnInfo('postgresql://[::1]:5433/db'), { host: '::1', port: '5433', dbname: 'db' });
  assert.deepEqual(parseConnInfo('postgresql://[fe80::1%25eth0]/db'), { host: 'fe80::1%25eth0', dbname: 'db' });
  assert.deepEqual(parseConnInfo('postgresql://us%40er:p%40ss%3Aw%2Fd@h/d%20b'), {
    user: 'us@er',
    password: 'p@ss:w/d',
    host: 'h',
    dbname: 'd b',
  });
  // an unencoded "@" in the password still works: the last "@" ends the user info
  assert.deepEqual(parseConnInfo('postgresql://u:p@ss@h/d'), { user: 'u', password: 'p@ss', host: 'h', dbname: 'd' });
  assert.deepEqual(parseConnInfo('postgresql://u@h?ssl=true'), { user: 'u', host: 'h', sslmode: 'require' });
  assert.deepEqual(parseConnInfo('postgresql://h1:5432,h2:5433/db'), { host: 'h1,h2', port: '5432,5433', dbname: 'db' });
  assert.deepEqual(parseConnInfo('POSTGRESQL://h'), { host: 'h' });
});

test('URI errors do not echo the password', () => {
  const e1 = err(() => parseConnInfo('postgresql://u:se/cret@h/db'));
  assert.equal(e1.code, 'CONFIG');
  assert.doesNotMatch(e1.message + (e1.hint ?? ''), /se|cret/);
  const e2 = err(() => parseConnInfo('postgresql://u:bad%zzpw@h/db'));
  assert.match(e2.message, /percent-encoding in the password/);
  assert.doesNotMatch(e2.message, /bad|zzpw/);
  const e3 = err(() => parseConnInfo('postgresql://h/db?nosuch=1'));
  assert.match(e3.message, /unknown option "nosuch"/);
  const e4 = err(() => parseConnInfo('postgresql://[::1/db'));
  assert.match(e4.message, /missing "\]"/);
  const e5 = err(() => parseConnInfo('postgresql://h:port/db'));
  assert.match(e5.message, /port in the URI is not a number/);
  const e6 = err(() => parseConnInfo('postgresql://h/db?password=x%00y'));
  assert.doesNotMatch(e6.message, /x%00y/);
});

test('redactConnInfo hides passwords in every form', () => {
  assert.equal(redactConnInfo("host=h password='se cret' user=u"), 'host=h password=******** user=u');
  assert.equal(redactConnInfo('postgresql://u:secret@h:5432/db?sslmode=require'), 'postgresql://u:********@h:5432/db?sslmode=require');
  assert.equal(redactConnInfo('postgresql://u:p@ss@h/db'), 'postgresql://u:********@h/db');
  assert.equal(redactConnInfo('postgresql://u@h/db?password=secret&x=1'), 'postgresql://u@h/db?password=********&x=1');
  assert.equal(redactConnInfo('postgresql://h/db'), 'postgresql://h/db');
  // unparseable strings are still redacted
  const broken = redactConnInfo("password='secret host=x");
  assert.doesNotMatch(broken, /secret/);
  assert.doesNotMatch(redactConnInfo('password=secret oops'), /secret/);
});

test('formatConnInfo quotes what needs quoting and round-trips', () => {
  const params = { host: '/tmp/a b', user: "o'neil", dbname: '', port: '5432', password: 'back\\slash' };
  const text = formatConnInfo(params);
  assert.equal(text, "host='/tmp/a b' user='o\\'neil' dbname='' port=5432 password='back\\\\slash'");
  assert.deepEqual(parseConnInfo(text), params);
});

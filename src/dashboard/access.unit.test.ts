/** Who may read the dashboard: loopback addresses, the token (header, cookie, ?token= once), the Host header. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { checkListenAccess, COOKIE, hostOf, isLoopback, requestAccess } from './access.js';
import { PgkeepError } from '../errors.js';

const TOKEN = 'a-long-enough-token-0123';

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as IncomingMessage;
}

const access = (path: string, headers: Record<string, string>, token: string | null = TOKEN) =>
  requestAccess(request({ host: '127.0.0.1:8432', ...headers }), new URL(path, 'http://dashboard'), token ?? undefined);

test('loopback addresses are 127.0.0.0/8, ::1 and localhost; nothing else', () => {
  for (const h of ['127.0.0.1', '127.3.2.1', '::1', '[::1]', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
    assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '127.example.com', '']) assert.equal(isLoopback(h), false, h);
  assert.equal(hostOf('127.0.0.1:8432'), '127.0.0.1');
  assert.equal(hostOf('[::1]:8432'), '::1');
  assert.equal(hostOf('Evil.Example:80'), 'evil.example');
});

test('listening elsewhere than loopback without a token is refused (CONFIG), with a token allowed', () => {
  assert.throws(
    () => checkListenAccess('0.0.0.0', undefined),
    (e: unknown) => e instanceof PgkeepError && e.code === 'CONFIG' && /without a token/.test(e.message),
  );
  checkListenAccess('0.0.0.0', TOKEN);
  checkListenAccess('127.0.0.1', undefined);
});

test('with a token: header or cookie must carry it; ?token= sets the cookie and redirects without it', () => {
  assert.deepEqual(access('/', {}), { ok: false });
  assert.deepEqual(access('/', { authorization: 'Bearer nope' }), { ok: false });
  assert.deepEqual(access('/', { authorization: `Bearer ${TOKEN}` }), { ok: true });
  assert.deepEqual(access('/', { cookie: `other=1; ${COOKIE}=${TOKEN}` }), { ok: true });
  assert.deepEqual(access('/', { cookie: `${COOKIE}=${TOKEN}x` }), { ok: false });
  assert.deepEqual(access('/?token=wrong', {}), { ok: false });
  const r = access(`/data.json?a=1&token=${TOKEN}`, {});
  assert.equal(r.ok, 'redirect');
  if (r.ok !== 'redirect') return;
  assert.equal(r.location, '/data.json?a=1');
  assert.match(r.cookie, new RegExp(`^${COOKIE}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/$`));
});

test('without a token (loopback only): a request naming another host is refused (DNS rebinding)', () => {
  assert.deepEqual(access('/', { host: '127.0.0.1:8432' }, null), { ok: true });
  assert.deepEqual(access('/', { host: 'localhost:8432' }, null), { ok: true });
  assert.deepEqual(access('/', { host: 'attacker.example:8432' }, null), { ok: false });
});

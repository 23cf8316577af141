/** Notifications against a real HTTP server and SMTP sink: shapes, bounded retries, failures never thrown. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notifySettings } from '../config/monitor.js';
import { notify, stateChange } from './notify/index.js';
import { httpSink, smtpSink } from './test-sinks.js';

const change = stateChange({ cluster: 'main', check: 'archive', from: 'OK', to: 'CRITICAL', reason: 'archive stalled: x', fix: 'do y' });

test('a JSON webhook, a Slack one and an e-mail each carry the change', async () => {
  const [hooks, mails] = await Promise.all([httpSink(), smtpSink()]);
  try {
    const n = notifySettings({
      webhook: `${hooks.url}/a`,
      slack_webhook: `${hooks.url}/s`,
      smtp_host: '127.0.0.1',
      smtp_port: mails.port,
      smtp_tls: 'none',
      from: 'pgkeep@test.invalid',
      to: 'a@test.invalid, b@test.invalid',
    });
    const d = await notify(n, change);
    assert.deepEqual(
      d.map((x) => x.ok),
      [true, true, true],
      JSON.stringify(d),
    );
    const generic = hooks.received.find((p) => p.path === '/a')!.body;
    assert.equal(generic.source, 'pgkeep');
    assert.equal(generic.to, 'CRITICAL');
    assert.equal(generic.fix, 'do y');
    assert.match(
      hooks.received.find((p) => p.path === '/s')!.body.text,
      /^\[CRITICAL\] pgkeep .*\/main archive \(was OK\): archive stalled: x\nfix: do y/,
    );
    assert.deepEqual(mails.received[0]!.to, ['<a@test.invalid>', '<b@test.invalid>']);
    assert.match(mails.received[0]!.data, /Subject: \[CRITICAL\]/);
  } finally {
    await Promise.all([hooks.close(), mails.close()]);
  }
});

test('a failing channel is retried within its bound, reported, and does not stop the others', async () => {
  let calls = 0;
  const failing = createServer((_req, res) => {
    calls++;
    res.writeHead(calls < 3 ? 503 : 500).end();
  });
  await new Promise<void>((r) => failing.listen(0, '127.0.0.1', r));
  const hooks = await httpSink();
  try {
    const port = (failing.address() as AddressInfo).port;
    const n = notifySettings({ webhook: `http://127.0.0.1:${port}/secret-path ${hooks.url}/ok`, retries: 2, timeout: '2s' });
    const t0 = Date.now();
    const d = await notify(n, change, { backoffMs: 50 });
    assert.equal(calls, 3, 'first attempt and 2 retries, no more');
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(d[0]!.ok, false);
    assert.match(d[0]!.error!, /HTTP 500/);
    assert.doesNotMatch(d[0]!.channel, /secret-path/);
    assert.equal(d[1]!.ok, true);
    // Nothing listens: refused at once, retried, reported.
    const gone = await notify(notifySettings({ slack_webhook: 'http://127.0.0.1:1/x', retries: 1, timeout: '1s' }), change, {
      backoffMs: 10,
    });
    assert.equal(gone[0]!.ok, false);
    // The SMTP password variable is missing: reported, not thrown.
    const mail = await notify(
      notifySettings({
        smtp_host: '127.0.0.1',
        smtp_port: 1,
        smtp_user: 'u',
        smtp_password_env: 'PGKEEP_TEST_NO_SUCH_VAR',
        from: 'a@b',
        to: 'c@d',
        retries: 0,
      }),
      change,
    );
    assert.match(mail[0]!.error!, /PGKEEP_TEST_NO_SUCH_VAR is not set/);
  } finally {
    failing.closeAllConnections();
    await new Promise((r) => failing.close(r));
    await hooks.close();
  }
});

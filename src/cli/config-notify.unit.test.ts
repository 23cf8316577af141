/** `config show` lists where alerts go without the secret part of a webhook URL nor the SMTP password. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { configReport, renderConfigReport } from './commands/config.js';

test('config show: [monitor] and [notify], webhook paths and SMTP password never shown', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-config-notify-'));
  try {
    const file = join(dir, 'pgkeep.toml');
    writeFileSync(
      file,
      '[monitor]\ninterval = "30s"\n[notify]\nslack_webhook = "https://hooks.slack.com/services/T0/B0/SECRET"\n' +
        'webhook = "https://alerts.example.com/hook?token=SECRET"\nsmtp_host = "mail.example.com"\nsmtp_password_env = "SMTP_PW"\nfrom = "a@b"\nto = "c@d, e@f"\n',
    );
    const report = configReport(loadConfig({ config: file }, { SMTP_PW: 'SECRET' }), { SMTP_PW: 'SECRET' });
    const json = JSON.stringify(report);
    assert.doesNotMatch(json, /SECRET/);
    assert.equal(report.monitor.intervalMs, 30_000);
    assert.deepEqual(report.notify.slackWebhooks, ['https://hooks.slack.com']);
    assert.match(
      renderConfigReport(report),
      /notify +webhook https:\/\/alerts\.example\.com; slack https:\/\/hooks\.slack\.com; e-mail via mail\.example\.com:25 to c@d, e@f/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// restore --archive-mode: the option, the settings it writes whatever the recovery mode, and
// how the restored configuration's archive settings are read back (include files followed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { parseArchiveMode, restoredArchiveSettings } from './archive-mode.js';
import { planRecovery, renderAutoConf, writeRecoveryConfig } from './recovery-config.js';

const META = {
  method: 'stream',
  standalone: false,
  timeline: 1,
  startLsn: '0/2000028',
  stopLsn: '0/2000100',
} as unknown as PhysicalBackupMeta;
const access = { repo: '/r', cluster: 'main' };

test('parseArchiveMode: off and preserve, any case; anything else is a usage error', () => {
  assert.equal(parseArchiveMode('off'), 'off');
  assert.equal(parseArchiveMode(' Preserve '), 'preserve');
  assert.throws(() => parseArchiveMode('on'), { code: 'USAGE', message: /invalid --archive-mode "on"/ });
});

test('planRecovery: archive_mode = off is an override for every mode; preserve adds nothing; it never turns on archive recovery', () => {
  const cold = planRecovery({ meta: { ...META, method: 'cold' }, access, encrypted: false, archiveMode: 'off' });
  assert.equal(cold.mode, 'none');
  assert.deepEqual(cold.overrides, { archive_mode: 'off' });
  assert.deepEqual(cold.settings, {});
  const standalone = planRecovery({ meta: { ...META, standalone: true }, access, encrypted: false, archiveMode: 'off' });
  assert.equal(standalone.mode, 'crash-recovery');
  assert.deepEqual(standalone.overrides, { archive_mode: 'off' });
  const hot = planRecovery({ meta: META, access, encrypted: false, archiveMode: 'off' });
  assert.equal(hot.mode, 'archive-recovery');
  assert.deepEqual(hot.overrides, { archive_mode: 'off' });
  assert.equal(hot.settings.archive_mode, undefined, 'not a recovery setting');
  assert.deepEqual(planRecovery({ meta: META, access, encrypted: false, archiveMode: 'preserve' }).overrides, {});
  assert.deepEqual(planRecovery({ meta: META, access, encrypted: false }).overrides, {});
});

test('renderAutoConf: a setting written now replaces the copy the source had', () => {
  const out = renderAutoConf("# Do not edit\narchive_mode = 'on'\nwork_mem = '8MB'\n", { archive_mode: 'off' }, 'snapshot X');
  assert.equal(out, "# Do not edit\nwork_mem = '8MB'\n# recovery settings written by pgkeep restore (snapshot X)\narchive_mode = 'off'\n");
});

test('writeRecoveryConfig: a cold restore with --archive-mode off gets archive_mode = off and no recovery.signal; read back through the include files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-archive-mode-test-'));
  try {
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(
      join(dir, 'postgresql.conf'),
      "archive_mode = off\ninclude_if_exists = 'extra.conf'\t# comment\ninclude_dir 'conf.d'\ninclude 'missing.conf'\n",
    );
    writeFileSync(join(dir, 'extra.conf'), "archive_mode = on\narchive_command = 'pgkeep wal push %p' # it's quoted\n");
    writeFileSync(join(dir, 'conf.d', '10-a.conf'), "archive_command = 'cp %p /a/%f'\n");
    writeFileSync(join(dir, 'conf.d', '20-b.conf'), "archive_command = 'cp %p /b/%f'\n");
    const pick = ({ archiveMode, archiveCommand, known }: Awaited<ReturnType<typeof restoredArchiveSettings>>) => ({
      archiveMode,
      archiveCommand,
      known,
    });
    assert.deepEqual(pick(await restoredArchiveSettings(dir)), { archiveMode: 'on', archiveCommand: 'cp %p /b/%f', known: true });

    const plan = planRecovery({ meta: { ...META, method: 'cold' }, access, encrypted: false, archiveMode: 'off' });
    await writeRecoveryConfig(dir, plan, 'snapshot X');
    assert.equal(existsSync(join(dir, 'recovery.signal')), false);
    assert.match(readFileSync(join(dir, 'postgresql.auto.conf'), 'utf8'), /^archive_mode = 'off'$/m);
    assert.deepEqual(pick(await restoredArchiveSettings(dir)), { archiveMode: 'off', archiveCommand: 'cp %p /b/%f', known: true });

    const nothing = mkdtempSync(join(dir, 'empty-'));
    await writeRecoveryConfig(nothing, planRecovery({ meta: { ...META, method: 'cold' }, access, encrypted: false }), 'snapshot X');
    assert.equal(existsSync(join(nothing, 'postgresql.auto.conf')), false, 'preserve on a cold restore writes nothing');
    assert.deepEqual(pick(await restoredArchiveSettings(nothing)), { archiveMode: undefined, archiveCommand: undefined, known: false });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

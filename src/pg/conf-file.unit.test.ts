import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConfLine, formatConfValue, mergeConf, parseConfLines, renderConfLines } from './conf-file.js';

test('values are formatted for postgresql.conf', () => {
  assert.equal(formatConfValue(true), 'on');
  assert.equal(formatConfValue(false), 'off');
  assert.equal(formatConfValue(10), '10');
  assert.equal(formatConfValue('16MB'), "'16MB'");
  assert.equal(formatConfValue("pgkeep wal push '%p'"), "'pgkeep wal push ''%p'''");
  assert.equal(formatConfValue('C:\\dir'), "'C:\\\\dir'");
  assert.equal(formatConfLine('archive_mode', true), 'archive_mode = on');
  assert.throws(() => formatConfLine('bad name', 1), /invalid setting name/);
  assert.throws(() => formatConfValue(Number.NaN), /finite/);
});

test('settings files parse, merge (case-insensitively) and render back', () => {
  const text =
    "# header\nport = 5433\nlisten_addresses='127.0.0.1' # trailing comment\narchive_command = 'echo ''#not a comment'''\n\nWork_Mem 4MB\n";
  const m = parseConfLines(text);
  assert.deepEqual(
    [...m.entries()],
    [
      ['port', '5433'],
      ['listen_addresses', "'127.0.0.1'"],
      ['archive_command', "'echo ''#not a comment'''"],
      ['work_mem', '4MB'],
    ],
  );
  mergeConf(m, { WORK_MEM: '8MB', wal_level: 'replica' });
  assert.equal(m.get('work_mem'), "'8MB'");
  const out = renderConfLines(m, 'hello');
  assert.match(out, /^# hello\nport = 5433\n/);
  assert.deepEqual(parseConfLines(out), m);
});

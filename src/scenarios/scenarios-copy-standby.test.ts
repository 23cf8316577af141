// Scenarios 10 (a COPY export, and why it is not a backup), 6 (a standby built from a backup,
// streaming, then promoted) and 9 (zero data loss: wal stream --synchronous), run as
// `pgkeep scenario run` runs them: their data, and RPO/RTO.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runPgkeep } from '../test-support/cli.js';
import { fact, runOk } from './test-scenarios.js';

test('pgkeep scenario run copy-export (the command line): each step with what is copied from where, then RPO, RTO and the checks', async () => {
  const r = await runPgkeep(['scenario', 'run', 'copy-export']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(
    r.stdout,
    /^What is copied, and from where:\n {2}- the table's rows \(as text\): from the table, by COPY TO STDOUT over SQL, in one snapshot$/m,
  );
  const titles = [...r.stdout.matchAll(/^== Step (\d+)\/4: (.*)$/gm)].map((m) => m[2]);
  assert.equal(titles.length, 4, r.stdout);
  assert.match(r.stdout, /^ {3}600 rows, [\d.]+ KiB, into \S+orders\.csv in [\d.]+ s \(from the table, by COPY over SQL\)$/m);
  assert.match(r.stdout, /1 primary key, 2 foreign keys, 2 indexes, 1 view depending on it/);
  assert.match(r.stdout, /^ {3}600 rows loaded in [\d.]+ s: the same rows, without keys, indexes or the view$/m);
  assert.match(r.stdout, /^RPO \(what could be lost\): \d+\.\d s — /m);
  assert.match(r.stdout, /^RTO \(time to get the data back\): \d+\.\d s — /m);
  assert.match(r.stdout, /^ok {3}the CSV holds exactly the rows of the table$/m);
  assert.match(r.stdout, /stopped and removed/);
  const file = /into (\S+orders\.csv)/.exec(r.stdout)![1]!;
  assert.equal(existsSync(file), false, 'the work directory is removed');
});

test('standby: restored from the backup, streams from the primary, a write arrives, promoted it accepts writes', async () => {
  const r = await runOk('standby');
  const lag = Number(fact(r, 'lag', 'lagSeconds'));
  assert.ok(lag >= 0 && lag < 30, `lag ${lag}`);
  assert.equal(r.rpo.seconds, lag);
  assert.ok(r.rto.seconds > 0 && r.rto.seconds < 120, `RTO ${r.rto.seconds}`);
});

test('zero data loss: of twenty commits, the synchronous stream holds all, archiving alone none of the unfinished segment', async () => {
  const r = await runOk('zero-data-loss');
  assert.equal(fact(r, 'count', 'inStream'), 20);
  assert.equal(fact(r, 'count', 'inArchive'), 0);
  assert.equal(r.rpo.seconds, 0);
  assert.match(r.rpo.meaning, /with archiving alone: 20 lost, \d+\.\d s since the last archived segment/);
});

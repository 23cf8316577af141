import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgRestoreLog, describeRestoreError } from './pg-restore-log.js';
import { RESTORE_CONTINUE, RESTORE_EXIT, RESTORE_NO_DATABASE } from './pg-restore-log.fixtures.js';

function feed(text: string): { log: PgRestoreLog; progress: string[] } {
  const log = new PgRestoreLog();
  const progress: string[] = [];
  for (const line of text.split('\n')) {
    const ev = log.push(line);
    if (ev?.kind === 'progress') progress.push(ev.text);
  }
  return { log, progress };
}

test('errors of a restore that goes on: each with its TOC entry, detail and command', () => {
  const { log, progress } = feed(RESTORE_CONTINUE);
  assert.equal(log.ignored, 23);
  assert.equal(log.errors.length, 23);
  assert.ok(
    log.errors.every((e) => e.dumpId !== undefined),
    'every error names its entry',
  );
  const first = log.errors[0]!;
  assert.equal(first.dumpId, 8);
  assert.equal(first.entry, 'SCHEMA Weird Schema postgres');
  assert.equal(first.message, 'schema "Weird Schema" already exists');
  assert.equal(first.command, 'CREATE SCHEMA "Weird Schema";');
  const data = log.errors.find((e) => e.dumpId === 3425)!;
  assert.equal(data.message, 'COPY failed for table "orders": ERROR:  duplicate key value violates unique constraint "orders_pkey"');
  assert.deepEqual(data.detail, ['DETAIL: Key (id)=(1) already exists.', 'CONTEXT: COPY orders, line 1']);
  const fn = log.errors.find((e) => e.dumpId === 227)!;
  assert.match(fn.command!, /^CREATE FUNCTION sales\.touch\(\) RETURNS trigger\n {4}LANGUAGE plpgsql/);
  assert.ok(progress.includes('creating TABLE "sales.orders"'));
  assert.equal(
    describeRestoreError(first, 'SCHEMA "Weird Schema"'),
    'SCHEMA "Weird Schema" (TOC entry 8): schema "Weird Schema" already exists',
  );
});

test('exit on error: one error, with its entry', () => {
  const { log } = feed(RESTORE_EXIT);
  assert.equal(log.errors.length, 1);
  assert.equal(log.errors[0]!.dumpId, 8);
  assert.equal(log.ignored, undefined);
});

test('a connection failure is an error without an entry', () => {
  const { log } = feed(RESTORE_NO_DATABASE);
  assert.equal(log.errors.length, 1);
  assert.equal(log.errors[0]!.dumpId, undefined);
  assert.match(log.errors[0]!.message, /database "nodb" does not exist/);
});

test('psql errors of a plain restore', () => {
  const { log } = feed(
    [
      'psql:<stdin>:12: ERROR:  relation "t" already exists',
      'psql:<stdin>:30: ERROR:  syntax error at or near "x"',
      'psql:<stdin>:30: LINE 1: x',
    ].join('\n'),
  );
  assert.equal(log.errors.length, 2);
  assert.equal(log.errors[0]!.line, 12);
  assert.equal(log.errors[1]!.message, 'syntax error at or near "x"');
  assert.deepEqual(log.errors[1]!.detail, ['LINE 1: x']);
  assert.equal(describeRestoreError(log.errors[0]!), 'line 12: relation "t" already exists');
});

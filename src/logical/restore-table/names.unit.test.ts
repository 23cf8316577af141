import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../../errors.js';
import { joinWithin, planRenames, resolveTableNames, truncateBytes } from './names.js';
import { tableDumpArgs } from './dump-load.js';

test('table names: defaults (schema public, <name>_restored in the same schema), --as with and without schema', () => {
  assert.deepEqual(resolveTableNames('orders'), {
    source: { schema: 'public', name: 'orders' },
    target: { schema: 'public', name: 'orders_restored' },
  });
  assert.deepEqual(resolveTableNames('Sales.Orders', 'old'), {
    source: { schema: 'sales', name: 'orders' },
    target: { schema: 'sales', name: 'old' },
  });
  assert.deepEqual(resolveTableNames('"Sales"."Order Lines"', 'archive."Lines at T"'), {
    source: { schema: 'Sales', name: 'Order Lines' },
    target: { schema: 'archive', name: 'Lines at T' },
  });
});

test("table names: --as the table's own name is taken (the live check refuses it while the table exists); too long refused", () => {
  assert.deepEqual(resolveTableNames('public.orders', 'orders'), {
    source: { schema: 'public', name: 'orders' },
    target: { schema: 'public', name: 'orders' },
  });
  assert.throws(
    () => resolveTableNames('orders', 'x'.repeat(64)),
    (e: unknown) => e instanceof PgkeepError && e.code === 'USAGE' && /63 bytes/.test(e.message),
  );
  assert.throws(
    () => resolveTableNames('a.b.c'),
    (e: unknown) => e instanceof PgkeepError && e.code === 'USAGE',
  );
});

test('dependent names: prefix swapped, else prefixed; a number added while taken; never two alike', () => {
  const taken = new Set(['orders_restored_pkey', 'orders_restored_customer_idx']);
  const r = planRenames(
    'orders',
    'orders_restored',
    [
      { kind: 'index', schema: 'public', name: 'orders_pkey' },
      { kind: 'index', schema: 'public', name: 'orders_customer_idx' },
      { kind: 'index', schema: 'public', name: 'orders_customer_idx1' },
      { kind: 'index', schema: 'public', name: 'by_note' },
      { kind: 'sequence', schema: 'public', name: 'orders_id_seq' },
    ],
    () => taken,
  );
  assert.deepEqual(
    r.map((x) => x.to),
    [
      'orders_restored_pkey1',
      'orders_restored_customer_idx1',
      'orders_restored_customer_idx11',
      'orders_restored_by_note',
      'orders_restored_id_seq',
    ],
  );
});

test('dependent names fit in 63 bytes: the prefix gives way, characters are not split', () => {
  const long = 'n'.repeat(60);
  const [r] = planRenames('t', long, [{ kind: 'index', schema: 's', name: 't_pkey' }], () => new Set());
  assert.equal(r!.to, `${'n'.repeat(58)}_pkey`);
  assert.equal(Buffer.byteLength(joinWithin('ééééé', 'x'.repeat(60))), 62);
  assert.equal(truncateBytes('aé', 2), 'a');
});

test('pg_dump arguments name exactly one table, quoted, without publications', () => {
  const args = tableDumpArgs({ schema: 'Sales', name: 'a*b' }, '/tmp/x.dump');
  assert.ok(args.includes('--table="Sales"."a*b"'));
  assert.ok(args.includes('--strict-names') && args.includes('--no-publications') && args.includes('--format=custom'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayQualified, parseColumnList, parseQualifiedName, quoteIdent, quoteQualified } from './identifiers.js';
import { copyFromSql, copyToSql } from './copy-sql.js';
import { copyErrorLine } from './server-error.js';
import { copyDataHeader, copyFailFrame, parseCopyTag } from '../pg/copy.js';

test('qualified names as typed in SQL', () => {
  assert.deepEqual(parseQualifiedName('orders'), { name: 'orders' });
  assert.deepEqual(parseQualifiedName('Sales.Orders'), { schema: 'sales', name: 'orders' });
  assert.deepEqual(parseQualifiedName('"Sales"."Order Lines"'), { schema: 'Sales', name: 'Order Lines' });
  assert.deepEqual(parseQualifiedName('"my.table"'), { name: 'my.table' });
  assert.deepEqual(parseQualifiedName('public."a""b"'), { schema: 'public', name: 'a"b' });
  assert.deepEqual(parseQualifiedName(' s . t '), { schema: 's', name: 't' });
  for (const bad of ['a.b.c', '"unterminated', 'a.', '.b', '""', 'x"y"']) {
    assert.throws(
      () => parseQualifiedName(bad),
      (e: any) => e.code === 'USAGE',
      bad,
    );
  }
});

test('quoting is injection-safe', () => {
  assert.equal(quoteIdent('a"; drop table x; --'), '"a""; drop table x; --"');
  assert.equal(quoteQualified({ schema: 'S', name: 'x y' }), '"S"."x y"');
  assert.equal(displayQualified({ schema: 'public', name: 'Mixed Case' }), 'public."Mixed Case"');
  assert.throws(() => quoteIdent('a\0b'));
});

test('column lists', () => {
  assert.deepEqual(parseColumnList('a, B ,"C, d"'), ['a', 'b', 'C, d']);
  assert.throws(() => parseColumnList('a,,b'));
});

test('COPY statements', () => {
  assert.equal(
    copyToSql({ table: { schema: 's', name: 't' } }, { format: 'csv', header: true }),
    'COPY "s"."t" TO STDOUT WITH (FORMAT csv, HEADER true)',
  );
  assert.equal(copyToSql({ query: 'select 1;  ' }, { format: 'text' }), 'COPY (select 1) TO STDOUT WITH (FORMAT text)');
  assert.equal(copyFromSql({ name: 't' }, ['a', 'b'], { format: 'binary' }), 'COPY "t" ("a", "b") FROM STDIN WITH (FORMAT binary)');
  assert.throws(
    () => copyToSql({ table: { name: 't' } }, { format: 'binary', header: true }),
    (e: any) => e.code === 'USAGE',
  );
});

test('protocol frames and tags', () => {
  assert.deepEqual([...copyDataHeader(3)], [0x64, 0, 0, 0, 7]);
  assert.deepEqual([...copyFailFrame('no')], [0x66, 0, 0, 0, 7, 0x6e, 0x6f, 0]);
  assert.equal(parseCopyTag('COPY 12'), 12);
  assert.equal(parseCopyTag('SELECT 1'), undefined);
  assert.equal(copyErrorLine('COPY t, line 3, column b: "x"'), 3);
  assert.equal(copyErrorLine('COPY "my, table", line 17'), 17);
  assert.equal(copyErrorLine(undefined), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import { checkDeltaTablespace } from './delta-target.js';

test('--delta rewrites a non-empty tablespace location only when it holds a PG_<major>_<catversion> directory', () => {
  const t = { oid: '16384', from: '/srv/ts1', to: '/home/me' };
  assert.doesNotThrow(() => checkDeltaTablespace(t, ['PG_15_202209061']));
  assert.doesNotThrow(() => checkDeltaTablespace(t, ['PG_14_202107181', 'PG_15_202209061']));
  assert.throws(
    () => checkDeltaTablespace(t, ['Documents', '.bashrc']),
    (e: unknown) => e instanceof PgkeepError && e.code === 'CONFLICT' && /tablespace 16384.*not a tablespace directory/.test(e.message),
  );
});

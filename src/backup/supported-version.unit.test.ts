import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import { checkSupportedVersion } from './supported-version.js';

test('a server older than 13 is refused as UNSUPPORTED naming its version; 13-18 pass silently; 19 passes with a warning', () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  assert.throws(
    () => checkSupportedVersion('12.22', 120022, warn),
    (e: unknown) => e instanceof PgkeepError && e.code === 'UNSUPPORTED' && /PostgreSQL 13 or newer; this server is 12\.22/.test(e.message),
  );
  for (const [v, n] of [
    ['13.23', 130023],
    ['15.18', 150018],
    ['18.4', 180004],
  ] as const)
    checkSupportedVersion(v, n, warn);
  assert.deepEqual(warnings, []);
  checkSupportedVersion('19beta1', 190000, warn);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /19beta1 is newer than the newest major pgkeep is tested with \(18\)/);
});

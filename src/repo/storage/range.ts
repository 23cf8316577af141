/** Byte-range checks shared by the drivers. */
import { PgkeepError } from '../../errors.js';
import type { ByteRange } from './driver.js';

export function validateRange(range: ByteRange): void {
  const ok = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!ok(range.offset) || !ok(range.length)) {
    throw new PgkeepError('INTERNAL', `invalid byte range offset=${range.offset} length=${range.length}`, {
      hint: 'this is a bug in pgkeep; rerun with --log-level debug and report the output',
    });
  }
}

/**
 * Object keys are '/'-separated relative paths. Both drivers accept the same keys so a repository
 * can move between a directory and a bucket: no absolute keys, no empty, '.' or '..' segments,
 * no control characters or backslash, and no segment starting with the posix driver's
 * temporary-file prefix.
 */
import { PgkeepError } from '../../errors.js';

/** Prefix of the posix driver's temporary files; such names are reserved and never listed. */
export const TEMP_PREFIX = '.pgkeep-tmp-';

/** Throws PgkeepError INTERNAL (a caller bug) when the key is not acceptable. */
export function validateKey(key: string): void {
  const problem = keyProblem(key, false);
  if (problem) throw badKey(key, problem);
}

/** Like validateKey for list prefixes: empty is allowed, and so is a trailing '/'. */
export function validatePrefix(prefix: string): void {
  if (prefix === '') return;
  const problem = keyProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix, true);
  if (problem) throw badKey(prefix, problem);
}

function keyProblem(key: string, isPrefix: boolean): string | undefined {
  if (key.length === 0) return 'it is empty';
  if (key.startsWith('/')) return 'it is absolute';
  if (/[\u0000-\u001f\u007f\\]/.test(key)) return 'it contains a control or backslash character';
  if (Buffer.byteLength(key) > 1000) return 'it is longer than 1000 bytes';
  const segments = key.split('/');
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s === '') return 'it has an empty path segment';
    if (s === '.' || s === '..') return `it has a '${s}' segment`;
    // A prefix may end in the middle of a segment, e.g. "packs/a" for "packs/ab/...".
    if (s.startsWith(TEMP_PREFIX) && !(isPrefix && i === segments.length - 1)) {
      return `'${TEMP_PREFIX}' names are reserved for temporary files`;
    }
  }
  return undefined;
}

function badKey(key: string, problem: string): PgkeepError {
  return new PgkeepError('INTERNAL', `invalid repository object key ${JSON.stringify(key)}: ${problem}`, {
    hint: 'this is a bug in pgkeep; rerun with --log-level debug and report the output',
  });
}

/** Compare keys by their UTF-8 bytes, the order S3 lists them in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

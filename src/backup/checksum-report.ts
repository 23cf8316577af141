/** Step "verify" (local, cold): page checksum failures fail the backup, or become warnings. */
import { PgkeepError } from '../errors.js';
import type { ChecksumFailure } from './types.js';

export function describeFailure(f: ChecksumFailure): string {
  return (
    `${f.path} block ${f.block}${f.block !== f.blockInFile ? ` (block ${f.blockInFile} of this segment file)` : ''}: ` +
    `checksum ${f.found} in the page, ${f.expected} computed`
  );
}

export function checkChecksumFailures(failures: ChecksumFailure[], ignore: boolean, warn: (m: string) => void): void {
  if (failures.length === 0) return;
  if (ignore) {
    for (const f of failures.slice(0, 20)) warn(`page checksum failure (ignored): ${describeFailure(f)}`);
    if (failures.length > 20) warn(`${failures.length - 20} more page checksum failures (ignored)`);
    return;
  }
  const first = failures[0]!;
  throw new PgkeepError(
    'DATA_INTEGRITY',
    `page checksum verification failed for ${failures.length} page(s); first: ${describeFailure(first)}`,
    {
      hint:
        'the cluster has corrupt pages (find out which relation with SELECT pg_filenode_relation(0, <filenode>) in its ' +
        'database, and check storage and memory); restore the damaged data from an earlier backup, or run with ' +
        '--ignore-checksum-errors to take the backup anyway',
      details: { failures: failures.slice(0, 100) },
    },
  );
}

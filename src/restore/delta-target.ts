/**
 * What --delta may rewrite. A delta restore removes every entry the snapshot lacks, so pointed at
 * the wrong directory (a home directory, `--to ""` taken as the current one, another cluster's
 * data directory) it would delete what it finds there. It is allowed only over:
 *
 * - a PostgreSQL data directory of the same cluster: PG_VERSION, and global/pg_control whose
 *   system identifier is the snapshot's (a standby, an earlier restore, the crashed primary);
 * - a directory holding an interrupted pgkeep restore's marker (checked by the caller);
 * - for each tablespace, an empty location or one holding a PG_<major>_<catversion> directory.
 *
 * Anything else is refused (CONFLICT) before the first byte is written.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { systemIdFromPgControl } from '../pg/wal/identify.js';
import type { RestoredTablespace } from './types.js';

const TABLESPACE_VERSION_DIR = /^PG_\d+_\d+$/;

async function readOrUndefined(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw e;
  }
}

function refuse(dataDir: string, why: string, details: Record<string, unknown>): PgkeepError {
  return new PgkeepError('CONFLICT', `--delta refused: ${dataDir} ${why}; nothing was changed`, {
    hint:
      '--delta removes whatever the backup lacks, so it only rewrites a data directory of this cluster (or an ' +
      'interrupted pgkeep restore); restore into an empty or new directory instead, or check --to',
    details: { dataDir, ...details },
  });
}

/** A non-empty directory without the restore marker: must be a data directory of this cluster. */
export async function checkDeltaDataDir(dataDir: string, systemIdentifier: string): Promise<void> {
  const version = await readOrUndefined(join(dataDir, 'PG_VERSION'));
  if (!version) throw refuse(dataDir, 'is not a PostgreSQL data directory (no PG_VERSION)', {});
  const control = await readOrUndefined(join(dataDir, 'global', 'pg_control'));
  if (!control || control.length < 8) {
    throw refuse(dataDir, 'has no readable global/pg_control, so pgkeep cannot tell which cluster it belongs to', {});
  }
  const found = systemIdFromPgControl(control);
  if (found !== systemIdentifier) {
    throw refuse(dataDir, `is the data directory of another PostgreSQL system (${found}; the backup is of ${systemIdentifier})`, {
      found,
      expected: systemIdentifier,
    });
  }
}

/** A non-empty tablespace location given to --delta must hold a PG_<major>_<catversion> directory. */
export function checkDeltaTablespace(t: RestoredTablespace, names: string[]): void {
  if (names.some((n) => TABLESPACE_VERSION_DIR.test(n))) return;
  throw new PgkeepError(
    'CONFLICT',
    `--delta refused: the location of tablespace ${t.oid}, ${t.to}, is not empty and is not a tablespace directory (no PG_<major>_<catversion> inside); nothing was changed`,
    {
      hint: "give --tablespace-map an empty directory or the tablespace's existing location",
      details: { oid: t.oid, location: t.to, entries: names.slice(0, 20) },
    },
  );
}

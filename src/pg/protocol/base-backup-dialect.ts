/**
 * Which BASE_BACKUP a server speaks, from its server_version_num (no I/O):
 *   'legacy'  13 and 14: options as bare keywords (`LABEL 'x' PROGRESS FAST ...`), no TARGET;
 *             each archive is its own CopyOutResponse of raw tar bytes (tablespaces in the order
 *             of the tablespace result set, the data directory last), then the manifest as one
 *             more CopyOut when asked for.
 *   'current' 15 and newer: parenthesised options with TARGET 'client'; one CopyOut whose
 *             CopyData messages start with a type byte ('n', 'd', 'p', 'm').
 * 12 and older have no backup manifest (pgkeep verifies every stream backup against one): refused.
 */
import { PgkeepError } from '../../errors.js';

export type BaseBackupDialect = 'legacy' | 'current';

/** Oldest major `--method stream` supports. */
export const OLDEST_STREAM_MAJOR = 13;

/** server_version_num as people write it: 130023 -> "13.23", 90624 -> "9.6.24". */
export function versionText(serverVersionNum: number): string {
  const major = Math.floor(serverVersionNum / 10000);
  const minor = serverVersionNum % 100;
  return major >= 10 ? `${major}.${minor}` : `${major}.${Math.floor(serverVersionNum / 100) % 100}.${minor}`;
}

export function baseBackupDialect(serverVersionNum: number): BaseBackupDialect {
  const major = Math.floor(serverVersionNum / 10000);
  if (major < OLDEST_STREAM_MAJOR) {
    throw new PgkeepError(
      'UNSUPPORTED',
      `BASE_BACKUP over the replication protocol needs PostgreSQL ${OLDEST_STREAM_MAJOR} or newer; this server is ${versionText(serverVersionNum)}`,
      {
        hint: `PostgreSQL ${major} sends no backup manifest to check the copy against: use --method local on the database host, or upgrade the server`,
      },
    );
  }
  return major < 15 ? 'legacy' : 'current';
}

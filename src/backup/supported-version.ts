/**
 * Step "which PostgreSQL": pgkeep backs up PostgreSQL 13 to 18, each tested end to end on every
 * CI run (src/majors/). An older server is refused before anything is written (its catalogs,
 * low-level backup API and WAL formats are not the ones pgkeep reads); a newer one is backed up
 * with a warning, since its formats may have moved on.
 */
import { PgkeepError } from '../errors.js';

export const OLDEST_SUPPORTED_MAJOR = 13;
export const NEWEST_TESTED_MAJOR = 18;

export function checkSupportedVersion(serverVersion: string, serverVersionNum: number, warn: (message: string) => void): void {
  const major = Math.floor(serverVersionNum / 10000);
  if (major < OLDEST_SUPPORTED_MAJOR) {
    throw new PgkeepError('UNSUPPORTED', `pgkeep backs up PostgreSQL ${OLDEST_SUPPORTED_MAJOR} or newer; this server is ${serverVersion}`, {
      hint: `PostgreSQL ${major} is out of community support: upgrade it (pg_upgrade), or back it up with pg_basebackup and pg_dump of its own version meanwhile`,
      details: { major, oldestSupported: OLDEST_SUPPORTED_MAJOR },
    });
  }
  if (major > NEWEST_TESTED_MAJOR) {
    warn(
      `PostgreSQL ${serverVersion} is newer than the newest major pgkeep is tested with (${NEWEST_TESTED_MAJOR}): ` +
        'check the backup with "pgkeep verify" and a test restore',
    );
  }
}

/**
 * A restored data directory starts only with the server binaries (initdb, pg_ctl, postgres) of
 * the backup's major version. `restore --start` and restore-table's sandbox look for them before
 * anything is written, so a host without them fails in a second, not after the whole copy, and
 * the error names the backup's major and what to install (or where to point pgkeep).
 */
import { findPgBinDir, type PgBinDir } from '../pg/bin.js';
import { PgkeepError } from '../errors.js';

/**
 * The binaries of `major`: from `pgBin` (the cluster's pg_bin) or PGKEEP_PG_BIN first, as for the
 * client tools; when that directory holds another major (pg_bin set for a newer pg_dump, say),
 * from the usual places.
 */
export async function serverBinariesFor(major: number, pgBin: string | undefined, purpose: string): Promise<PgBinDir> {
  try {
    return await findPgBinDir({ pgBin, major });
  } catch (e) {
    if (!(e instanceof PgkeepError)) throw e;
    if (pgBin ?? process.env.PGKEEP_PG_BIN) {
      const searched = await findPgBinDir({ major, env: {} }).catch(() => undefined);
      if (searched) return searched;
    }
    throw new PgkeepError(e.code, `${purpose} needs the PostgreSQL ${major} server (the backup's major version): ${e.message}`, {
      hint:
        `install it (Debian/Ubuntu: apt-get install postgresql-${major}, from apt.postgresql.org when the distribution lacks it) ` +
        `or point pg_bin in [cluster.NAME] (or PGKEEP_PG_BIN) at the directory holding its initdb, pg_ctl and postgres`,
      details: { ...e.details, major },
      cause: e,
    });
  }
}

/** Checks for `--method logical`: pg_dump and pg_restore at least as new as the server. */
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { asked, check, sqlIdent } from './make.js';

export const LOGICAL_TOOLS = ['pg_dump', 'pg_restore'] as const;

export function toolChecks(facts: DoctorFacts): DoctorCheck[] {
  const usedBy = asked(facts, ['logical']);
  if (!usedBy.length || !facts.tools || !facts.server) return [];
  const major = facts.server.major;
  return LOGICAL_TOOLS.map((name) => {
    const t = facts.tools![name];
    if (!t) return null;
    if ('path' in t) {
      return check('logical', name, usedBy, 'PASS', `${t.path} is version ${t.version} (the server is ${major})`);
    }
    const found = (t.details?.found as { path: string; version: string }[] | undefined) ?? [];
    return check(
      'logical',
      name,
      usedBy,
      'FAIL',
      `${name} of major ${major} or newer is needed for a PostgreSQL ${major} server (${name === 'pg_dump' ? 'it refuses a server newer than itself' : `it must read what pg_dump ${major}+ writes`}); ` +
        (found.length ? `found only ${found.map((f) => `${f.path} (${f.version})`).join(', ')}` : `found no ${name}`),
      `install postgresql-client-${major} (Debian/Ubuntu: apt-get install postgresql-client-${major}; apt.postgresql.org has every version): ` +
        `pgkeep then finds /usr/lib/postgresql/${major}/bin by itself; or set pg_bin in [cluster.NAME] (or PGKEEP_PG_BIN) to its bin directory`,
      'none',
    );
  }).filter((c): c is DoctorCheck => c !== null);
}

/** pg_dump reads every table: the role needs pg_read_all_data (14+) or SELECT on all of them. */
export function readAccessCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['logical']);
  const r = facts.readAccess;
  const role = facts.role;
  if (!usedBy.length || !r || !role || !facts.server) return null;
  if (role.superuser) return check('logical', 'read_access', usedBy, 'PASS', `${role.name} is a superuser: pg_dump can read every table`);
  if (r.readAllData)
    return check(
      'logical',
      'read_access',
      usedBy,
      'PASS',
      `${role.name} has pg_read_all_data: pg_dump can read every table of every database`,
    );
  const db = facts.server.database;
  const grant =
    facts.server.major >= 14
      ? `as a superuser: GRANT pg_read_all_data TO ${sqlIdent(role.name)};   (every table, every database, present and future)`
      : schemaGrants(r.unreadableSchemas, role.name, db);
  if (r.unreadableCount > 0) {
    return check(
      'logical',
      'read_access',
      usedBy,
      'FAIL',
      `${role.name} may not read ${r.unreadableCount} table${r.unreadableCount === 1 ? '' : 's'} or sequence${r.unreadableCount === 1 ? '' : 's'} ` +
        `in database ${db} (${r.unreadable.join(', ')}${r.unreadableCount > r.unreadable.length ? ', ...' : ''}): pg_dump stops with "permission denied"`,
      grant,
      'none',
    );
  }
  return check(
    'logical',
    'read_access',
    usedBy,
    'PASS',
    `${role.name} may read every table and sequence of database ${db} (without pg_read_all_data, a table created later ` +
      'or another database needs its own GRANT)',
  );
}

/**
 * Before 14 there is no pg_read_all_data: SELECT on everything of each schema pg_dump could not
 * read, in the connected database (each database needs its own; later tables need
 * ALTER DEFAULT PRIVILEGES or a new GRANT).
 */
function schemaGrants(schemas: string[], role: string, database: string): string {
  const r = sqlIdent(role);
  const lines = schemas.flatMap((s) => {
    const schema = sqlIdent(s);
    return [
      `GRANT USAGE ON SCHEMA ${schema} TO ${r};`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${r};`,
      `GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${r};`,
    ];
  });
  return (
    `as a superuser (or the owner of the tables), connected to database ${sqlIdent(database)} ` +
    `(PostgreSQL 14+ has pg_read_all_data for every database at once):\n${lines.join('\n')}`
  );
}

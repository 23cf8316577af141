/** Checks for `--method logical`: pg_dump and pg_restore at least as new as the server. */
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { asked, check } from './make.js';

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
    return check('logical', name, usedBy, 'FAIL',
      `${name} of major ${major} or newer is needed for a PostgreSQL ${major} server: ${t.message}`,
      `install postgresql-client-${major} (Debian/Ubuntu; apt.postgresql.org has every version), ` +
      'or set pg_bin in [cluster.NAME] to its bin directory', 'none');
  }).filter((c): c is DoctorCheck => c !== null);
}

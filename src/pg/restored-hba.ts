/**
 * Who may connect to a copy pgkeep starts (restore --start, restore-table's sandbox, the demo's
 * recovered cluster): a copy of production holds production's data, so
 *
 * - no trust over TCP, ever: by default the copy listens on no TCP address at all, only on a
 *   unix socket in a 0700 directory of the server's OS user (local-cluster.ts);
 * - a data directory without pg_hba.conf (Debian keeps it in /etc/postgresql) gets one with
 *   `local ... trust` lines only (private socket), plus `host ... scram-sha-256` lines when TCP
 *   was asked for: roles log in with the passwords they had in production;
 * - the backup's own pg_hba.conf is never weakened: without TCP it is left as it is; with TCP,
 *   its host lines that say `trust` are changed to scram-sha-256 (the original kept as a comment).
 *
 * Pure functions; local-cluster.ts writes the file.
 */

/** What pgkeep did to pg_hba.conf before starting a copy (reported to the user). */
export interface HbaReport {
  file: string;
  /** written: the data directory had none; hardened: host trust lines changed; kept: unchanged. */
  action: 'written' | 'hardened' | 'kept';
  /** The lines written or changed (for "kept": none). */
  lines: string[];
}

const HOST_TYPES = new Set(['host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc']);
const METHODS = new Set([
  'trust',
  'reject',
  'scram-sha-256',
  'md5',
  'password',
  'gss',
  'sspi',
  'ident',
  'peer',
  'pam',
  'ldap',
  'radius',
  'cert',
]);

/** The pg_hba.conf lines for a data directory that has none. */
export function hbaForCopy(tcp: boolean): string[] {
  return [
    'local   all           all                 trust',
    'local   replication   all                 trust',
    ...(tcp ? ['host    all           all   all           scram-sha-256', 'host    replication   all   all           scram-sha-256'] : []),
  ];
}

export function hbaFileText(lines: string[]): string {
  return [
    '# written by pgkeep: the data directory had no pg_hba.conf (a Debian-style server keeps it in /etc/postgresql).',
    "# local: trust, because the socket directory only the server's OS user (and root) may enter.",
    "# host (only when TCP was asked for): password authentication, with the roles' passwords from the backup.",
    ...lines,
    '',
  ].join('\n');
}

/**
 * The backup's pg_hba.conf with every host line that says trust changed to scram-sha-256.
 * `includes`: its include directives (PostgreSQL 16+), whose files this cannot check.
 */
export function hardenHostTrust(text: string): { text: string; changed: string[]; includes: string[] } {
  const changed: string[] = [];
  const includes: string[] = [];
  const out = text.split('\n').map((line) => {
    const body = line.replace(/#.*$/, '');
    const tokens = body.trim().split(/\s+/);
    if (/^include(_if_exists|_dir)?$/i.test(tokens[0] ?? '')) includes.push(body.trim());
    if (!HOST_TYPES.has(tokens[0]?.toLowerCase() ?? '')) return line;
    const i = tokens.findIndex((t, k) => k >= 4 && METHODS.has(t.toLowerCase()));
    if (i < 0 || tokens[i]!.toLowerCase() !== 'trust') return line;
    tokens[i] = 'scram-sha-256';
    const fixed = tokens.join(' ');
    changed.push(fixed);
    return `# pgkeep: no trust over TCP in a restored copy; was: ${line}\n${fixed}`;
  });
  return { text: out.join('\n'), changed, includes };
}

/**
 * Paths given by the user are never empty: resolve('') is the current directory, so an empty
 * --to, --repo or pgdata would silently mean "here" (and --delta would rewrite it). Refused as
 * USAGE wherever a path enters pgkeep (CLI options, the configuration, the use cases' options).
 */
import { PgkeepError } from '../errors.js';
import type { GlobalFlags } from './types.js';

export function requirePath(value: string, what: string, code: 'USAGE' | 'CONFIG' = 'USAGE'): string {
  if (value.trim() === '') {
    throw new PgkeepError(code, `${what} is an empty path`, {
      hint: 'give a directory or file name (an empty value is not taken as the current directory)',
    });
  }
  return value;
}

type Table = Record<string, unknown>;

/**
 * Every path the configuration takes, from flags (USAGE), environment variables and the config
 * file (CONFIG): none may be empty. Runs before the config file is even looked for.
 */
export function refuseEmptyConfigPaths(flags: GlobalFlags, env: NodeJS.ProcessEnv): void {
  const given: [string | undefined, string, 'USAGE' | 'CONFIG'][] = [
    [flags.config, '--config', 'USAGE'],
    [flags.repo, '--repo', 'USAGE'],
    [flags.pgdata, '--pgdata', 'USAGE'],
    [flags.passphraseFile, '--passphrase-file', 'USAGE'],
    ...['PGKEEP_CONFIG', 'PGKEEP_REPO', 'PGKEEP_PGDATA', 'PGKEEP_PASSPHRASE_FILE', 'PGKEEP_PG_BIN'].map(
      (k): [string | undefined, string, 'CONFIG'] => [env[k], k, 'CONFIG'],
    ),
  ];
  for (const [value, from, code] of given) if (value !== undefined) requirePath(value, from, code);
}

/** Path keys of a parsed config file ([repo] path, passphrase_file; [agent] state_dir; [cluster.*] pgdata, pg_bin). */
export function refuseEmptyFilePaths(doc: Table, file: string): void {
  const repo = (doc.repo ?? {}) as Table;
  const keys: [unknown, string][] = [
    [repo.path, 'repo.path'],
    [repo.passphrase_file, 'repo.passphrase_file'],
    [((doc.agent ?? {}) as Table).state_dir, 'agent.state_dir'],
  ];
  for (const [name, t] of Object.entries((doc.cluster ?? {}) as Record<string, Table>)) {
    keys.push([t.pgdata, `cluster.${name}.pgdata`], [t.pg_bin, `cluster.${name}.pg_bin`]);
  }
  for (const [value, key] of keys) if (typeof value === 'string') requirePath(value, `${key} in ${file}`, 'CONFIG');
}

/** pg_restore's command line (pure). The server and user come from the environment. */

export interface PgRestoreArgsOptions {
  /** Database to connect to: the target, or the maintenance database with `create`. */
  database: string;
  create?: boolean;
  clean?: boolean;
  noOwner?: boolean;
  jobs?: number;
  continueOnError?: boolean;
  /** A -L list file. */
  listFile?: string;
  /** Archive file or directory; absent = stdin. */
  archive?: string;
  /** Only this section of the archive (a restore in sections, see sections-restore.ts). */
  section?: 'pre-data' | 'data' | 'post-data';
}

/** `dbname='...'` so that a database name is never taken for a connection string. */
export function dbnameConninfo(name: string): string {
  return `dbname='${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function pgRestoreArgs(o: PgRestoreArgsOptions): string[] {
  const args = ['--verbose', '--no-password', `--dbname=${dbnameConninfo(o.database)}`];
  if (o.create) args.push('--create');
  if (o.clean) args.push('--clean', '--if-exists');
  if (o.noOwner) args.push('--no-owner');
  if (!o.continueOnError) args.push('--exit-on-error');
  if (o.jobs && o.jobs > 1) args.push(`--jobs=${o.jobs}`);
  if (o.section) args.push(`--section=${o.section}`);
  if (o.listFile) args.push(`--use-list=${o.listFile}`);
  if (o.archive) args.push(o.archive);
  return args;
}

/** pg_restore writing the rows of the listed TABLE DATA entries as a SQL script to stdout (no server). */
export function dataScriptArgs(listFile: string, archive?: string): string[] {
  return ['--data-only', `--use-list=${listFile}`, '--file=-', ...(archive ? [archive] : [])];
}

/** psql for plain SQL (and globals) read from stdin. */
export function psqlArgs(database: string, stopOnError: boolean): string[] {
  return ['-X', '-q', '--no-password', '-v', `ON_ERROR_STOP=${stopOnError ? 1 : 0}`, `--dbname=${dbnameConninfo(database)}`, '-f', '-'];
}

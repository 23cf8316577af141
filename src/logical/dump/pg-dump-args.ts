/** pg_dump's command line for one database (pure). The connection goes through the environment. */
import type { DumpFormat } from '../meta.js';

export interface PgDumpArgsOptions {
  format: DumpFormat;
  schemas?: string[];
  tables?: string[];
  excludeTables?: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  /** Parallel jobs (directory format). */
  jobs?: number;
  /** Turn pg_dump's compression off (the repository compresses). */
  noCompression?: boolean;
  /** Output directory (directory format). */
  outputDir?: string;
  /** Include CREATE DATABASE (plain dumps of a whole cluster). */
  create?: boolean;
}

export function pgDumpArgs(o: PgDumpArgsOptions): string[] {
  const args = ['--verbose', `--format=${o.format === 'custom' ? 'c' : o.format === 'directory' ? 'd' : 'p'}`];
  if (o.noCompression && o.format !== 'plain') args.push('--compress=0');
  for (const s of o.schemas ?? []) args.push(`--schema=${s}`);
  for (const t of o.tables ?? []) args.push(`--table=${t}`);
  for (const t of o.excludeTables ?? []) args.push(`--exclude-table=${t}`);
  // Every --schema/--table must match something: a typo is an error, not an empty dump.
  if ((o.schemas?.length ?? 0) + (o.tables?.length ?? 0) > 0) args.push('--strict-names');
  if (o.schemaOnly) args.push('--schema-only');
  if (o.dataOnly) args.push('--data-only');
  if (o.create) args.push('--create');
  if (o.format === 'directory') {
    if (o.jobs && o.jobs > 1) args.push(`--jobs=${o.jobs}`);
    args.push(`--file=${o.outputDir}`);
  }
  return args;
}

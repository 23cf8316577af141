/**
 * The COPY statements pgkeep sends. Pure: names are quoted here, never interpolated raw.
 */
import { PgkeepError } from '../errors.js';
import { quoteIdent, quoteQualified, type QualifiedName } from './identifiers.js';

export const COPY_FORMATS = ['csv', 'text', 'binary'] as const;
export type CopyFormat = (typeof COPY_FORMATS)[number];

export interface CopyFormatOptions {
  format: CopyFormat;
  /** First line holds the column names (csv; text on PostgreSQL 15+). Not for binary. */
  header?: boolean;
}

export function checkFormat(format: string): CopyFormat {
  if ((COPY_FORMATS as readonly string[]).includes(format)) return format as CopyFormat;
  throw new PgkeepError('USAGE', `unknown COPY format "${format}"`, { hint: `use one of: ${COPY_FORMATS.join(', ')}` });
}

function withClause(o: CopyFormatOptions): string {
  if (o.header && o.format === 'binary') {
    throw new PgkeepError('USAGE', '--header cannot be used with --format binary', {
      hint: 'binary COPY files carry their own header; drop --header',
    });
  }
  const opts = [`FORMAT ${o.format}`];
  if (o.header) opts.push('HEADER true');
  return `(${opts.join(', ')})`;
}

function columnList(columns: string[] | undefined): string {
  return columns && columns.length ? ` (${columns.map(quoteIdent).join(', ')})` : '';
}

export type CopySource = { table: QualifiedName; columns?: string[] } | { query: string };

/** `COPY <table or (query)> TO STDOUT WITH (...)`. */
export function copyToSql(source: CopySource, o: CopyFormatOptions): string {
  let what: string;
  if ('table' in source) what = quoteQualified(source.table) + columnList(source.columns);
  else {
    const q = source.query.trim().replace(/;\s*$/, '');
    if (!q) throw new PgkeepError('USAGE', '--query is empty');
    what = `(${q})`;
  }
  return `COPY ${what} TO STDOUT WITH ${withClause(o)}`;
}

/** `COPY <table> (cols) FROM STDIN WITH (...)`. */
export function copyFromSql(table: QualifiedName, columns: string[] | undefined, o: CopyFormatOptions): string {
  return `COPY ${quoteQualified(table)}${columnList(columns)} FROM STDIN WITH ${withClause(o)}`;
}

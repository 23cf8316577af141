/**
 * `pgkeep copy import`: rows from a file or a stream into one table through COPY FROM STDIN, in
 * one transaction: on any failure (bad line, constraint, interrupted input) nothing is imported,
 * and the error says which line the server rejected.
 */
import { createReadStream, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { PgkeepError } from '../errors.js';
import type { ClusterSettings } from '../config/types.js';
import { connect } from '../pg/connect.js';
import { copyIn, type CopyProgress } from '../pg/copy.js';
import { copyFromSql, type CopyFormat } from './copy-sql.js';
import { displayQualified, parseColumnList, parseQualifiedName } from './identifiers.js';
import { wrapServerError } from './server-error.js';
import { interrupted } from './copy-export.js';

export interface CopyImportOptions {
  cluster: ClusterSettings;
  database?: string;
  /** Target `schema.table` as typed by the user. */
  table: string;
  /** Comma-separated column list, in the order of the input's fields. */
  columns?: string;
  format: CopyFormat;
  header?: boolean;
  /** A file path, or a stream (stdin). */
  from: string | Readable;
  signal?: AbortSignal;
  /** Progress; `total` is the input's size when it is a file. */
  onProgress?: (p: CopyProgress & { total?: number }) => void;
}

export interface CopyImportResult {
  table: string;
  database: string;
  format: CopyFormat;
  rows: number;
  bytes: number;
  file?: string;
  seconds: number;
}

function openInput(from: string | Readable): { stream: Readable; total?: number } {
  if (typeof from !== 'string') return { stream: from };
  let size: number;
  try {
    const st = statSync(from);
    if (st.isDirectory()) throw new Error('is a directory');
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PgkeepError(code === 'ENOENT' ? 'NOT_FOUND' : 'USAGE', `cannot read ${from}: ${code ?? (e as Error).message}`);
  }
  return { stream: createReadStream(from, { highWaterMark: 256 * 1024 }), total: size };
}

export async function importCopy(o: CopyImportOptions): Promise<CopyImportResult> {
  const started = Date.now();
  const table = parseQualifiedName(o.table);
  const columns = o.columns !== undefined ? parseColumnList(o.columns) : undefined;
  const sql = copyFromSql(table, columns, { format: o.format, header: o.header });
  const shown = displayQualified(table);
  const input = openInput(o.from);

  let client;
  try {
    client = await connect(o.cluster, { database: o.database, signal: o.signal });
  } catch (e) {
    input.stream.destroy();
    throw e;
  }
  const database = client.database ?? o.database ?? '';
  try {
    await client.query('BEGIN');
    const r = await copyIn(client, sql, input.stream, {
      signal: o.signal,
      onProgress: o.onProgress ? (p) => o.onProgress!({ ...p, total: input.total }) : undefined,
    });
    await client.query('COMMIT');
    return {
      table: shown,
      database,
      format: o.format,
      rows: r.rows,
      bytes: r.bytes,
      ...(typeof o.from === 'string' ? { file: o.from } : {}),
      seconds: (Date.now() - started) / 1000,
    };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {});
    if (o.signal?.aborted) throw interrupted(o.signal);
    if ((e as NodeJS.ErrnoException).syscall) {
      throw new PgkeepError(
        'USAGE',
        `cannot read ${typeof o.from === 'string' ? o.from : 'the input'}: ${(e as Error).message}; nothing was imported`,
        { cause: e },
      );
    }
    const wrapped = wrapServerError(e, `COPY into ${shown} in database ${database}`);
    if (wrapped instanceof PgkeepError) wrapped.message += '; nothing was imported (one transaction)';
    throw wrapped;
  } finally {
    input.stream.destroy();
    await client.end().catch(() => {});
  }
}

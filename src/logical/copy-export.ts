/**
 * `pgkeep copy export`: one table's (or one query's) rows out through COPY TO STDOUT, streamed
 * to a file or a stream with bounded memory. A file is written under a temporary name and
 * renamed when complete, so a failed export never leaves a half file behind.
 */
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { PgkeepError } from '../errors.js';
import type { ClusterSettings } from '../config/types.js';
import { connect } from '../pg/connect.js';
import { copyOut, type CopyProgress } from '../pg/copy.js';
import { copyToSql, type CopyFormat } from './copy-sql.js';
import { displayQualified, parseColumnList, parseQualifiedName } from './identifiers.js';
import { wrapServerError } from './server-error.js';

export interface CopyExportOptions {
  cluster: ClusterSettings;
  /** Database to read from (default: the connection's). */
  database?: string;
  /** `schema.table` as typed by the user (quoted parts allowed), or... */
  table?: string;
  /** ...a query whose result is exported. */
  query?: string;
  /** Comma-separated column list (with --table). */
  columns?: string;
  format: CopyFormat;
  header?: boolean;
  /** A file path, or a stream (stdout) that is written to and not closed. */
  to: string | Writable;
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
}

export interface CopyExportResult {
  source: string;
  database: string;
  format: CopyFormat;
  rows: number;
  bytes: number;
  /** The file written, absent when writing to a stream. */
  file?: string;
  seconds: number;
}

export async function exportCopy(o: CopyExportOptions): Promise<CopyExportResult> {
  const started = Date.now();
  if ((o.table === undefined) === (o.query === undefined)) {
    throw new PgkeepError('USAGE', 'give exactly one of --table or --query');
  }
  if (o.query !== undefined && o.columns !== undefined) {
    throw new PgkeepError('USAGE', '--columns goes with --table; select the columns in the --query instead');
  }
  const table = o.table !== undefined ? parseQualifiedName(o.table) : undefined;
  const columns = o.columns !== undefined ? parseColumnList(o.columns) : undefined;
  const sql = copyToSql(table ? { table, columns } : { query: o.query! }, { format: o.format, header: o.header });
  const source = table ? displayQualified(table) : 'query';

  const client = await connect(o.cluster, { database: o.database, signal: o.signal });
  const database = client.database ?? o.database ?? '';
  // A regular file is written under a temporary name and renamed into place; anything else that
  // already exists (/dev/null, a FIFO, a terminal) is written directly: renaming onto a device as
  // root would replace the device node itself.
  const direct = typeof o.to === 'string' && existsSync(o.to) && !statSync(o.to).isFile();
  const tmp = typeof o.to === 'string' && !direct ? join(dirname(o.to), `.${basename(o.to)}.pgkeep-${process.pid}.tmp`) : undefined;
  let file: ReturnType<typeof createWriteStream> | undefined;
  try {
    const stream = copyOut(client, sql, { signal: o.signal, onProgress: o.onProgress });
    const dest = tmp || direct ? (file = createWriteStream((tmp ?? o.to) as string, { flags: tmp ? 'wx' : 'a' })) : (o.to as Writable);
    await pipeline(stream, dest, { end: tmp !== undefined || direct });
    if (tmp) renameSync(tmp, o.to as string);
    return {
      source,
      database,
      format: o.format,
      rows: stream.rows ?? 0,
      bytes: stream.bytes,
      ...(tmp ? { file: o.to as string } : {}),
      seconds: (Date.now() - started) / 1000,
    };
  } catch (e) {
    // The file may still be opening: wait, or it would appear after the removal below.
    if (file && !file.closed) await new Promise<void>((res) => file!.once('close', () => res()));
    if (tmp) rmSync(tmp, { force: true });
    if (o.signal?.aborted) throw interrupted(o.signal);
    if ((e as NodeJS.ErrnoException).code && typeof (e as NodeJS.ErrnoException).syscall === 'string') {
      throw new PgkeepError('USAGE', `cannot write ${typeof o.to === 'string' ? o.to : 'the output'}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    throw wrapServerError(e, `COPY of ${source} from database ${database}`);
  } finally {
    await client.end().catch(() => {});
  }
}

export function interrupted(signal: AbortSignal): PgkeepError {
  return signal.reason instanceof PgkeepError ? signal.reason : new PgkeepError('INTERRUPTED', 'interrupted');
}

/**
 * Turn a PostgreSQL error (node-postgres DatabaseError) met during a logical operation into a
 * PgkeepError with a stable code, the server's words, and where it happened (COPY line).
 */
import { PgkeepError, type ErrorCode } from '../errors.js';

interface ServerErrorLike {
  message: string;
  code?: string;
  severity?: string;
  detail?: string;
  hint?: string;
  where?: string;
}

export function isServerError(e: unknown): e is ServerErrorLike {
  return e instanceof Error && typeof (e as ServerErrorLike).code === 'string' && typeof (e as ServerErrorLike).severity === 'string';
}

/** "COPY t, line 3, column b: "x"" -> 3. */
export function copyErrorLine(where: string | undefined): number | undefined {
  const m = /\bCOPY [^,]+(?:,[^,]*)*?, line (\d+)/.exec(where ?? '') ?? /\bline (\d+)/.exec(where ?? '');
  return m ? Number(m[1]) : undefined;
}

/** SQLSTATE -> pgkeep error code. */
export function codeForSqlState(sqlState: string | undefined): ErrorCode {
  if (!sqlState) return 'INTERNAL';
  if (sqlState === '42P01' || sqlState === '3F000' || sqlState === '3D000' || sqlState === '42883') return 'NOT_FOUND';
  if (sqlState === '42501') return 'SERVER_NOT_READY';
  if (sqlState.startsWith('23') || ['42P04', '42P06', '42P07', '42710', '42723'].includes(sqlState)) return 'CONFLICT';
  if (sqlState.startsWith('22') || sqlState.startsWith('42') || sqlState === '0A000') return 'USAGE';
  if (sqlState === '57014') return 'INTERRUPTED';
  if (sqlState.startsWith('08') || sqlState.startsWith('57')) return 'CONNECTION';
  return 'SERVER_NOT_READY';
}

/**
 * Wrap `e` (if it is a server error) as a PgkeepError: "<what> failed: <server message>
 * (line N)". Other errors pass through unchanged.
 */
export function wrapServerError(e: unknown, what: string, hint?: string): unknown {
  if (!isServerError(e)) return e;
  const line = copyErrorLine(e.where);
  const at = line !== undefined ? ` (at line ${line} of the input)` : '';
  const detail = e.detail ? `; ${e.detail}` : '';
  return new PgkeepError(codeForSqlState(e.code), `${what} failed: ${e.message}${detail}${at}`, {
    hint: hint ?? e.hint,
    details: { sqlState: e.code, ...(e.where ? { where: e.where } : {}), ...(line !== undefined ? { line } : {}) },
    cause: e,
  });
}

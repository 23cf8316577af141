/** A table whose rows could not be loaded (parallel-copy.ts), told like pg_restore's errors. */

import { isServerError } from '../server-error.js';
import type { TableFailure } from './parallel-copy.js';
import type { RestoredError } from './types.js';

export function describeServerFailure(f: TableFailure, object: string): RestoredError {
  const e = f.error;
  const message = e instanceof Error ? e.message : String(e);
  const detail: string[] = [];
  if (isServerError(e)) {
    if (e.detail) detail.push(`DETAIL:  ${e.detail}`);
    if (e.where) detail.push(`CONTEXT:  ${e.where}`);
    if (e.hint) detail.push(`HINT:  ${e.hint}`);
  }
  const loaded = f.committedRows
    ? `${f.committedRows} of its rows were committed by other sessions before: the table is incomplete`
    : 'none of its rows were loaded';
  return { message, detail, object, text: `${object}: ${message} (${loaded})` };
}

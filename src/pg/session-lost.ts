/**
 * A session that ended under a running operation: pg_terminate_backend, a server shutdown or
 * restart, idle_session_timeout, a network cut. node-postgres reports it on the client's 'error'
 * event (with the server's reason, e.g. 57P01 "terminating connection due to administrator
 * command") and then fails every later query with "Client has encountered a connection error and
 * is not queryable"; both become one CONNECTION error that says what happened.
 */
import type pg from 'pg';
import { PgkeepError } from '../errors.js';

export interface SessionWatch {
  /** The error that ended the session, if it ended. */
  readonly lost: Error | undefined;
}

/** Remember the first error that ends `client`'s session. */
export function watchSession(client: pg.Client): SessionWatch {
  const watch: { lost: Error | undefined } = { lost: undefined };
  client.on('error', (e: Error) => {
    watch.lost ??= e;
  });
  client.on('end', () => {
    watch.lost ??= new Error('the connection was closed');
  });
  return watch;
}

function ended(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : '';
  return (
    code.startsWith('57P') ||
    code.startsWith('08') ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    /not queryable|Connection terminated|connection (?:was )?closed/i.test(String(err?.message ?? ''))
  );
}

/**
 * CONNECTION when `e` (met by `what`) means the session ended; undefined otherwise. `session`
 * names it ("the backup's session"); `consequence` says what that leaves ("nothing was published").
 */
export function sessionLostError(
  e: unknown,
  watch: SessionWatch | undefined,
  what: string,
  session: string,
  consequence: string,
): PgkeepError | undefined {
  if (e instanceof PgkeepError) return undefined;
  const lost = watch?.lost;
  if (!lost && !ended(e)) return undefined;
  const reason = (lost ?? (e as Error)).message ?? String(e);
  const who =
    (lost as { code?: string } | undefined)?.code === '57P01' || /administrator command/.test(reason)
      ? ' (pg_terminate_backend, or the server shutting down)'
      : '';
  return new PgkeepError('CONNECTION', `${what} failed: ${session} to the server ended: ${reason}${who}; ${consequence}`, {
    hint: 'see the server log for what ended it (pg_terminate_backend, a restart, idle_session_timeout, the network), then run it again',
    details: { ...((lost as { code?: string } | undefined)?.code ? { sqlState: (lost as { code?: string }).code } : {}) },
    cause: lost ?? e,
  });
}

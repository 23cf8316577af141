/** Server errors and lost connections during replication commands, as PgkeepErrors. */
import { PgkeepError } from '../../errors.js';

interface ServerErrorLike {
  code?: string;
  message?: string;
  severity?: string;
  hint?: string;
}

/** A server's error (or a dead connection) while running a replication command, as a PgkeepError. */
export function replicationCommandError(err: unknown, command: string): PgkeepError {
  if (err instanceof PgkeepError) return err;
  const e = (err ?? {}) as ServerErrorLike;
  const msg = String(e.message ?? err);
  const serverHint = e.hint ? ` (server hint: ${e.hint})` : '';
  // a server ErrorResponse has a severity; socket errors (EPIPE...) do not
  const sqlstate = e.severity && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  const details = { command, ...(sqlstate ? { sqlstate } : {}) };
  if (!sqlstate) {
    return new PgkeepError('CONNECTION', `${command} failed: the connection to the server was lost (${msg})`, {
      hint: 'check that the server is running and reachable, then retry',
      details,
      cause: err,
    });
  }
  const make = (code: 'SERVER_NOT_READY' | 'NOT_FOUND' | 'CONFLICT' | 'UNSUPPORTED' | 'CONNECTION' | 'DATA_INTEGRITY', hint: string) =>
    new PgkeepError(code, `${command} failed: ${msg}`, { hint: hint + serverHint, details, cause: err });
  switch (sqlstate) {
    case '53300':
      return make(
        'SERVER_NOT_READY',
        'the server has no free WAL sender: raise max_wal_senders (needs a restart) or stop other replication clients',
      );
    case '55000':
      return make('SERVER_NOT_READY', 'the server is not configured for this; see the message (e.g. set wal_level = replica and restart)');
    case '42501':
      return make('SERVER_NOT_READY', 'the role needs the REPLICATION attribute (ALTER ROLE ... REPLICATION) or superuser');
    case '42704':
      return make('NOT_FOUND', 'create it first, or check its name');
    case '42710':
      return make('CONFLICT', 'use the existing one, or drop it first');
    case '58P01':
      return make('NOT_FOUND', 'the server no longer has the WAL asked for; start from a newer position or use a replication slot');
    case '42601':
    case '0A000':
      return make(
        'UNSUPPORTED',
        'this server does not support the command as pgkeep sends it (BASE_BACKUP needs PostgreSQL 13 or newer, READ_REPLICATION_SLOT 15 or newer)',
      );
    case 'XX001':
      return make('DATA_INTEGRITY', 'the server found damaged data; check its log and the storage');
    case '57P01':
    case '57P02':
    case '57P03':
      return make('CONNECTION', 'the server is shutting down or restarting; retry when it is up');
    default:
      return make('SERVER_NOT_READY', "see the server's message; the server log may say more");
  }
}

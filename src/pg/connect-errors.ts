/**
 * Turning node-postgres connection failures into PgkeepErrors that say what happened and what to
 * do. Never includes a password.
 */
import { userInfo } from 'node:os';
import { PgkeepError } from '../errors.js';
import type { ConnectionParams } from './connect.js';

export function describeTarget(p: ConnectionParams): string {
  return p.isSocket ? `socket ${p.host}/.s.PGSQL.${p.port}` : `${p.hostaddr ?? p.host}:${p.port}`;
}

/** The pg_hba.conf line that would admit this connection. */
export function suggestHbaLine(p: ConnectionParams, replication: boolean | 'database' | undefined, clientAddress?: string): string {
  const db = replication === true ? 'replication' : p.database;
  const method = 'scram-sha-256';
  if (p.isSocket || clientAddress === '[local]') return `local ${db} ${p.user} ${method}`;
  let addr = clientAddress ?? '127.0.0.1';
  addr = addr.includes(':') ? `${addr}/128` : `${addr}/32`;
  return `host ${db} ${p.user} ${addr} ${method}`;
}

interface PgLikeError {
  code?: string;
  message?: string;
  errno?: number;
  syscall?: string;
}

/** Map a failure while connecting to a PgkeepError. */
export function connectionError(e: unknown, p: ConnectionParams, replication?: boolean | 'database'): PgkeepError {
  if (e instanceof PgkeepError) return e;
  const err = (e ?? {}) as PgLikeError;
  const msg = String(err.message ?? e);
  const target = describeTarget(p);
  const details = { host: p.host, port: p.port, user: p.user, database: p.database, ...(err.code ? { reason: err.code } : {}) };
  const fail = (code: 'CONNECTION' | 'NOT_FOUND' | 'SERVER_NOT_READY', what: string, hint?: string) =>
    new PgkeepError(code, `cannot connect to ${describeConnectionShort(p)}: ${what}`, { hint, details, cause: e });

  switch (err.code) {
    case 'ECONNREFUSED':
      return fail(
        'CONNECTION',
        `connection refused at ${target}`,
        'is the server running on that host and port, and listening there (listen_addresses, port in postgresql.conf)? ' +
          'Set host/port in the connection string or PGHOST/PGPORT',
      );
    case 'ENOENT':
      return fail(
        'CONNECTION',
        `no server socket ${p.host}/.s.PGSQL.${p.port}`,
        'is the server running locally with that port? Check unix_socket_directories and port in postgresql.conf, ' +
          'or connect over TCP with host=127.0.0.1 (or PGHOST)',
      );
    case 'EACCES':
      return fail('CONNECTION', `permission denied on ${target}`, 'this OS user may not use that socket directory; check its permissions');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail('CONNECTION', `cannot resolve host name "${p.host}"`, 'check the host name in the connection string or PGHOST');
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return fail('CONNECTION', `${target} is not reachable (${err.code})`, 'check the host, the network path and firewalls');
    case 'ECONNRESET':
      return fail(
        'CONNECTION',
        `the server at ${target} closed the connection`,
        'the server may be shutting down or rejecting this client; see its log',
      );
    case '28P01':
      if (!p.passwordSource) return noPasswordError(p);
      return fail(
        'CONNECTION',
        `password authentication failed for user "${p.user}"`,
        p.passwordSource
          ? `the password from ${p.passwordSource} was not accepted; fix it there (passwords are never printed)`
          : 'no password was given: put it in ~/.pgpass (hostname:port:database:username:password, chmod 0600), PGPASSWORD, or the connection string',
      );
    case '28000': {
      const m = /no pg_hba\.conf entry for (?:replication connection from )?host "([^"]+)"/.exec(msg);
      if (m) {
        const line = suggestHbaLine(p, replication, m[1]);
        return fail(
          'CONNECTION',
          `the server's pg_hba.conf has no entry admitting ${replication === true ? 'a replication connection' : `database "${p.database}"`} for user "${p.user}" from ${m[1]}`,
          `add this line near the top of pg_hba.conf, then reload (SELECT pg_reload_conf()):\n  ${line}`,
        );
      }
      const rejected = /pg_hba\.conf rejects (?:replication )?connection for host "([^"]+)"/.exec(msg);
      if (rejected) {
        return fail(
          'CONNECTION',
          msg,
          `a "reject" line of pg_hba.conf matches this connection first: add an admitting line above it, ` +
            `then reload (SELECT pg_reload_conf()):\n  ${suggestHbaLine(p, replication, rejected[1])}`,
        );
      }
      if (/is not permitted to log in/.test(msg)) {
        return fail(
          'CONNECTION',
          msg,
          `the role has NOLOGIN: as a superuser, ALTER ROLE "${p.user}" LOGIN; (or connect as a role that may log in)`,
        );
      }
      const peer = /(Peer|Ident) authentication failed for user "([^"]+)"/.exec(msg);
      if (peer) return fail('CONNECTION', msg, peerAuthHint(p, peer[1]!.toLowerCase()));
      if (/role .* does not exist/.test(msg)) {
        return fail(
          'NOT_FOUND',
          `role "${p.user}" does not exist`,
          `create it (CREATE ROLE "${p.user}" LOGIN ...) or connect as another user`,
        );
      }
      return fail('CONNECTION', msg, 'see the server log for the reason');
    }
    case '3D000':
      return fail(
        'NOT_FOUND',
        `database "${p.database}" does not exist`,
        'name an existing database (dbname= in the connection string, PGDATABASE or --database); list them with `psql -l`',
      );
    case '57P03':
      return fail(
        'SERVER_NOT_READY',
        `the server is not accepting connections yet (${msg})`,
        'wait until it has finished starting up or recovering, then retry',
      );
    case '53300':
      return fail(
        'CONNECTION',
        'too many connections',
        'raise max_connections (or max_wal_senders for replication) or close idle sessions',
      );
    case '42501':
      return fail(
        'SERVER_NOT_READY',
        msg,
        replication
          ? `give the role the REPLICATION attribute: ALTER ROLE "${p.user}" REPLICATION;`
          : `grant "${p.user}" the privilege it lacks (CONNECT on the database?)`,
      );
  }
  if (/client password must be a string|password must be a string|SASL: SCRAM-SERVER-FIRST-MESSAGE/.test(msg)) {
    return fail(
      'CONNECTION',
      `the server asked for a password for user "${p.user}" and none was given`,
      'put it in ~/.pgpass (hostname:port:database:username:password, chmod 0600), set PGPASSWORD, or add password= to the connection string',
    );
  }
  if (/does not support SSL/i.test(msg)) {
    return fail(
      'CONNECTION',
      `the server at ${target} does not accept SSL, and sslmode=${p.sslmode} requires it`,
      'enable ssl on the server, or use sslmode=prefer or disable',
    );
  }
  if (/certificate|self.signed|unable to verify|Hostname\/IP does not match/i.test(msg)) {
    return fail(
      'CONNECTION',
      `SSL certificate check failed (sslmode=${p.sslmode}): ${msg}`,
      'give the CA that signed the server certificate with sslrootcert=FILE (or ~/.postgresql/root.crt), or use sslmode=require',
    );
  }
  if (/timeout/i.test(msg)) {
    return fail(
      'CONNECTION',
      `timed out connecting to ${target}`,
      'check that the server is up and reachable; connect_timeout (PGCONNECT_TIMEOUT) sets the limit',
    );
  }
  if (/terminated unexpectedly|Connection terminated/i.test(msg)) {
    return fail('CONNECTION', `the server at ${target} closed the connection during startup`, 'see the server log for the reason');
  }
  return fail('CONNECTION', msg);
}

/**
 * Peer (or ident) authentication: the server admits a role only for the OS user of the same name
 * (or one mapped in pg_ident.conf). The three ways out, with this connection's names.
 */
export function peerAuthHint(p: ConnectionParams, method: string): string {
  let me = 'this OS user';
  try {
    me = `the OS user "${userInfo().username}"`;
  } catch {
    // no passwd entry: keep the generic words
  }
  const role = p.user;
  const osName = safeName(me);
  const mapLine = `pgkeep   ${osName}   ${role}"${osName === role ? '' : ` and "pgkeep   ${role}   ${role}`}`;
  return (
    `${method} authentication admits role "${role}" only for the OS user of that name, and pgkeep runs as ${me}. Either:\n` +
    `  1. run pgkeep as that OS user: sudo -u ${role} pgkeep ...\n` +
    `  2. connect over TCP with a password: -d "host=127.0.0.1 port=${p.port} user=${role} dbname=${p.database}" and a line ` +
    `127.0.0.1:${p.port}:*:${role}:PASSWORD in ~/.pgpass (chmod 0600), with a host ... scram-sha-256 rule in pg_hba.conf\n` +
    `  3. map ${me} to the role: add "${mapLine}" to pg_ident.conf and "map=pgkeep" to the ${method === 'peer' ? 'peer' : 'ident'} line ` +
    'of pg_hba.conf that matched, then reload (the map applies to every role on that line)'
  );
}

function safeName(who: string): string {
  const m = /"([^"]+)"/.exec(who);
  return m ? m[1]! : 'OSUSER';
}

/** The server asked for a password and none was configured. */
export function noPasswordError(p: ConnectionParams): PgkeepError {
  return new PgkeepError(
    'CONNECTION',
    `cannot connect to ${describeConnectionShort(p)}: the server asked for a password for user "${p.user}" and none was given`,
    {
      hint: 'put it in ~/.pgpass (hostname:port:database:username:password, chmod 0600), set PGPASSWORD, or add password= to the connection string',
      details: { host: p.host, port: p.port, user: p.user, database: p.database, reason: 'no-password' },
    },
  );
}

function describeConnectionShort(p: ConnectionParams): string {
  return `host=${p.host} port=${p.port} user=${p.user} dbname=${p.database}`;
}

/**
 * Connections the libpq way. Each parameter comes from the connection string (URI or
 * key=value), else the PG* environment variables, else libpq's defaults (unix socket in
 * /var/run/postgresql, port 5432, user = the OS user, database = the user). The password comes
 * from the connection string, else PGPASSWORD, else the password file (PGPASSFILE or ~/.pgpass).
 * Then node-postgres opens the connection, and failures become PgkeepErrors with advice.
 */
import { readFileSync, existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { PgkeepError } from '../errors.js';
import type { ClusterSettings } from '../config/types.js';
import { parseConnInfo } from '../config/conninfo.js';
import { DEFAULT_SOCKET_DIR, readPgpass } from './pgpass.js';
import { connectionError, noPasswordError } from './connect-errors.js';

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** A fully resolved connection. `password` is not enumerable, so JSON/log output never has it. */
export interface ConnectionParams {
  /** Host name, IP address, or unix socket directory (starts with "/"). */
  host: string;
  /** Numeric address to connect to instead of resolving `host` (libpq hostaddr). */
  hostaddr?: string;
  port: number;
  user: string;
  database: string;
  password?: string;
  /** Where the password came from: "connection string", "PGPASSWORD" or the password file's path. */
  passwordSource?: string;
  sslmode: SslMode;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  applicationName?: string;
  /** libpq connect_timeout in seconds (0 or absent: wait forever). */
  connectTimeout?: number;
  /** Server options (-c name=value ...), libpq `options`. */
  options?: string;
  /** TCP keepalives (libpq keepalives, default on) and their idle time in seconds. */
  keepalives: boolean;
  keepalivesIdle?: number;
  /** True when host is a unix socket directory. */
  isSocket: boolean;
  /** Things worth a warning (e.g. a .pgpass with loose permissions). */
  warnings: string[];
}

export interface ResolveOptions {
  /** Connect to this database instead of the configured one. */
  database?: string;
  env?: NodeJS.ProcessEnv;
  /** For a physical replication connection libpq looks .pgpass up with the database "replication". */
  replication?: boolean | 'database';
}

function osUser(env: NodeJS.ProcessEnv): string {
  try {
    return userInfo().username;
  } catch {
    return env.USER ?? env.LOGNAME ?? 'postgres';
  }
}

/** Resolve connection parameters by libpq's precedence (see the file comment). */
export function resolveConnection(settings: ClusterSettings, opts: ResolveOptions = {}): ConnectionParams {
  const env = opts.env ?? process.env;
  const kv = settings.connection ? parseConnInfo(settings.connection) : {};
  const pick = (key: string, envName: string): string | undefined => {
    const v = kv[key];
    if (v !== undefined && v !== '') return v;
    const e = env[envName];
    return e !== undefined && e !== '' ? e : undefined;
  };
  const from = (key: string, envName: string) => (kv[key] ? `${key}= in the connection string` : envName);

  const host = pick('host', 'PGHOST') ?? DEFAULT_SOCKET_DIR;
  const hostaddr = pick('hostaddr', 'PGHOSTADDR');
  if (host.includes(',') || (hostaddr ?? '').includes(',')) {
    throw new PgkeepError('UNSUPPORTED', `several hosts in ${from('host', 'PGHOST')} are not supported`, {
      hint: 'name one host (the primary, or the standby to back up from)',
    });
  }
  const portText = pick('port', 'PGPORT') ?? '5432';
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new PgkeepError('CONFIG', `invalid port "${portText}" (from ${from('port', 'PGPORT')})`, {
      hint: 'a port is a number from 1 to 65535',
    });
  }
  const user = pick('user', 'PGUSER') ?? osUser(env);
  const database = opts.database ?? pick('dbname', 'PGDATABASE') ?? user;
  const sslmodeText = pick('sslmode', 'PGSSLMODE') ?? (kv.requiressl === '1' ? 'require' : 'prefer');
  if (!(SSL_MODES as string[]).includes(sslmodeText)) {
    throw new PgkeepError('CONFIG', `invalid sslmode "${sslmodeText}" (from ${from('sslmode', 'PGSSLMODE')})`, {
      hint: `use one of: ${SSL_MODES.join(', ')}`,
    });
  }
  const timeoutText = pick('connect_timeout', 'PGCONNECT_TIMEOUT');
  let connectTimeout: number | undefined;
  if (timeoutText !== undefined) {
    if (!/^-?\d+$/.test(timeoutText)) {
      throw new PgkeepError('CONFIG', `invalid connect_timeout "${timeoutText}" (from ${from('connect_timeout', 'PGCONNECT_TIMEOUT')})`, {
        hint: 'connect_timeout is a whole number of seconds',
      });
    }
    const t = Number(timeoutText);
    connectTimeout = t <= 0 ? undefined : Math.max(t, 2); // libpq uses at least 2 seconds
  }
  const port = Number(portText);
  const params: ConnectionParams = {
    host,
    ...(hostaddr ? { hostaddr } : {}),
    port,
    user,
    database,
    sslmode: sslmodeText as SslMode,
    sslrootcert: pick('sslrootcert', 'PGSSLROOTCERT'),
    sslcert: pick('sslcert', 'PGSSLCERT'),
    sslkey: pick('sslkey', 'PGSSLKEY'),
    applicationName: pick('application_name', 'PGAPPNAME'),
    connectTimeout,
    options: pick('options', 'PGOPTIONS'),
    keepalives: kv.keepalives !== '0',
    keepalivesIdle: kv.keepalives_idle && /^\d+$/.test(kv.keepalives_idle) ? Number(kv.keepalives_idle) : undefined,
    isSocket: host.startsWith('/') || host.startsWith('@'),
    warnings: [],
  };
  for (const k of ['sslrootcert', 'sslcert', 'sslkey', 'applicationName', 'options', 'connectTimeout', 'keepalivesIdle'] as const) {
    if (params[k] === undefined) delete params[k];
  }

  let password: string | undefined;
  let source: string | undefined;
  if (kv.password) {
    password = kv.password;
    source = 'the connection string';
  } else if (env.PGPASSWORD) {
    password = env.PGPASSWORD;
    source = 'PGPASSWORD';
  } else {
    const home = env.HOME || homedir();
    const file = pick('passfile', 'PGPASSFILE') ?? join(home, '.pgpass');
    const r = readPgpass(file, { host, port, database: opts.replication === true ? 'replication' : database, user });
    if (r.warning) params.warnings.push(r.warning);
    if (r.password !== undefined) {
      password = r.password;
      source = file;
    }
  }
  Object.defineProperty(params, 'password', { value: password, enumerable: false, writable: true, configurable: true });
  if (source) params.passwordSource = source;
  return params;
}

/** "host=... port=... user=... dbname=..." for messages; never the password. */
export function describeConnection(p: ConnectionParams): string {
  const parts = [`host=${p.host}`];
  if (p.hostaddr) parts.push(`hostaddr=${p.hostaddr}`);
  parts.push(`port=${p.port}`, `user=${p.user}`, `dbname=${p.database}`);
  if (!p.isSocket && p.sslmode !== 'prefer') parts.push(`sslmode=${p.sslmode}`);
  return parts.join(' ');
}

function readFileFor(what: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new PgkeepError('CONFIG', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: `fix the path (${what}) or the file's permissions`,
    });
  }
}

/**
 * node-postgres' `ssl` option for a connection: false (no SSL) or TLS options. For `prefer`,
 * connect() tries SSL first and falls back to plain when the server does not offer it.
 */
export function sslOptions(p: ConnectionParams, env: NodeJS.ProcessEnv = process.env): false | ConnectionOptions {
  if (p.isSocket) return false;
  if (p.sslmode === 'disable' || p.sslmode === 'allow') return false;
  const home = env.HOME || homedir();
  const dotdir = join(home, '.postgresql');
  const tls: ConnectionOptions = {};
  const certFile = p.sslcert ?? join(dotdir, 'postgresql.crt');
  const keyFile = p.sslkey ?? join(dotdir, 'postgresql.key');
  if (p.sslcert || existsSync(certFile)) {
    tls.cert = readFileFor('client certificate (sslcert)', certFile);
    tls.key = readFileFor('client key (sslkey)', keyFile);
  }
  const rootFile = p.sslrootcert ?? join(dotdir, 'root.crt');
  // libpq: with sslmode=require, a root certificate that exists turns on verify-ca.
  const verify = p.sslmode === 'verify-ca' || p.sslmode === 'verify-full' || (p.sslmode === 'require' && existsSync(rootFile));
  if (!verify) {
    tls.rejectUnauthorized = false;
    return tls;
  }
  if (p.sslrootcert === 'system') {
    // system CA store: leave `ca` unset.
  } else if (!existsSync(rootFile)) {
    throw new PgkeepError('CONFIG', `sslmode=${p.sslmode} needs a root certificate, and ${rootFile} does not exist`, {
      hint: 'give the CA that signed the server certificate with sslrootcert=FILE (or PGSSLROOTCERT), or use sslmode=require',
    });
  } else tls.ca = readFileFor('root certificate (sslrootcert)', rootFile);
  tls.rejectUnauthorized = true;
  if (p.sslmode === 'verify-ca') tls.checkServerIdentity = () => undefined;
  else tls.servername = p.host;
  return tls;
}

export interface ConnectOptions {
  /** Connect to this database instead of the configured one. */
  database?: string;
  /** Open a walsender: true for physical replication, 'database' for logical. */
  replication?: boolean | 'database';
  /** Aborting closes the connection (while connecting or later). */
  signal?: AbortSignal;
  /** Used when neither application_name nor PGAPPNAME is set (default "pgkeep"). */
  applicationName?: string;
  env?: NodeJS.ProcessEnv;
  /** Called with warnings worth logging (e.g. a .pgpass with loose permissions was ignored). */
  onWarning?: (message: string) => void;
}

function clientConfig(p: ConnectionParams, ssl: false | ConnectionOptions, opts: ConnectOptions): pg.ClientConfig {
  const config: pg.ClientConfig & Record<string, unknown> = {
    host: p.hostaddr ?? p.host,
    port: p.port,
    user: p.user,
    database: p.database,
    // A function keeps node-postgres from reading .pgpass itself (we already applied libpq's rules).
    password: async () => {
      if (p.password === undefined) throw noPasswordError(p);
      return p.password;
    },
    ssl,
    application_name: p.applicationName ?? opts.applicationName ?? 'pgkeep',
    connectionTimeoutMillis: (p.connectTimeout ?? 0) * 1000,
    keepAlive: p.keepalives,
    ...(p.keepalivesIdle !== undefined ? { keepAliveInitialDelayMillis: p.keepalivesIdle * 1000 } : {}),
  };
  if (p.options) config.options = p.options;
  if (opts.replication) config.replication = opts.replication === 'database' ? 'database' : 'true';
  return config;
}

async function open(p: ConnectionParams, ssl: false | ConnectionOptions, opts: ConnectOptions): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(p, ssl, opts));
  // Errors after connecting are reported on the next query; keep them from crashing the process.
  client.on('error', () => {});
  const signal = opts.signal;
  if (signal?.aborted) throw interrupted(signal);
  const onAbort = () => {
    client.end().catch(() => {});
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await client.connect();
  } catch (e) {
    signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => {});
    if (signal?.aborted) throw interrupted(signal);
    throw e;
  }
  if (signal) client.once('end', () => signal.removeEventListener('abort', onAbort));
  return client;
}

function interrupted(signal: AbortSignal): PgkeepError {
  return signal.reason instanceof PgkeepError ? signal.reason : new PgkeepError('INTERRUPTED', 'interrupted while connecting');
}

/**
 * Open a node-postgres Client for the configured cluster. Failures are PgkeepErrors:
 * CONNECTION (unreachable, authentication, pg_hba), NOT_FOUND (database or role missing),
 * SERVER_NOT_READY (starting up, missing REPLICATION attribute).
 */
export async function connect(settings: ClusterSettings, opts: ConnectOptions = {}): Promise<pg.Client> {
  const p = resolveConnection(settings, { database: opts.database, env: opts.env, replication: opts.replication });
  return connectWith(p, opts);
}

/** Like connect(), for parameters already resolved (e.g. to log warnings first). */
export async function connectWith(p: ConnectionParams, opts: ConnectOptions = {}): Promise<pg.Client> {
  for (const w of p.warnings) opts.onWarning?.(w);
  const ssl = sslOptions(p, opts.env);
  try {
    return await open(p, ssl, opts);
  } catch (e) {
    if (ssl !== false && p.sslmode === 'prefer' && /does not support SSL/i.test(String((e as Error)?.message))) {
      try {
        return await open(p, false, opts);
      } catch (e2) {
        throw connectionError(e2, p, opts.replication);
      }
    }
    throw connectionError(e, p, opts.replication);
  }
}

/** Connect, run fn, and always close the connection. */
export async function withClient<T>(settings: ClusterSettings, opts: ConnectOptions, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(settings, opts);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

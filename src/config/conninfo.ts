/**
 * libpq connection strings, without I/O: key=value strings (`host=/tmp port=5433 user='a b'`)
 * and URIs (`postgresql://user:secret@host:5432/db?sslmode=require`). Parsing follows libpq's
 * rules; errors name the bad part but never echo a password.
 */
import { PgkeepError } from '../errors.js';

/** Keywords libpq accepts (PostgreSQL 15-18). Anything else is an error, as in libpq. */
export const CONNINFO_KEYWORDS: ReadonlySet<string> = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'password',
  'passfile',
  'channel_binding',
  'connect_timeout',
  'client_encoding',
  'options',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'replication',
  'gssencmode',
  'sslmode',
  'sslnegotiation',
  'requiressl',
  'sslcompression',
  'sslcert',
  'sslkey',
  'sslcertmode',
  'sslpassword',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslsni',
  'sslkeylogfile',
  'requirepeer',
  'require_auth',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'min_protocol_version',
  'max_protocol_version',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'target_session_attrs',
  'load_balance_hosts',
  'service',
  'oauth_issuer',
  'oauth_client_id',
  'oauth_client_secret',
  'oauth_scope',
]);

/** Keys whose values are secrets and must never be printed. */
const SECRET_KEYS = new Set(['password', 'sslpassword', 'oauth_client_secret']);

export function isUri(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s.trimStart());
}

/** Parse a libpq connection string (key=value or URI) into its keywords. */
export function parseConnInfo(s: string): Record<string, string> {
  return isUri(s) ? parseUri(s.trim()) : parseKeyValue(s);
}

function bad(message: string, hint?: string): PgkeepError {
  return new PgkeepError('CONFIG', `invalid connection string: ${message}`, {
    hint:
      hint ??
      'use key=value pairs (host=/var/run/postgresql port=5432 user=postgres dbname=app) ' +
        'or a URI (postgresql://user@host:5432/app?sslmode=require)',
  });
}

function checkKeyword(key: string): void {
  if (!CONNINFO_KEYWORDS.has(key)) {
    throw bad(
      `unknown option "${key}"`,
      'libpq options are listed at https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS',
    );
  }
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
}

/** key=value pairs separated by whitespace; values unquoted (backslash escapes) or single-quoted. */
function parseKeyValue(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  const n = s.length;
  let previousKey = '';
  while (i < n) {
    while (i < n && isSpace(s[i])) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && s[i] !== '=' && !isSpace(s[i])) i++;
    const key = s.slice(keyStart, i);
    while (i < n && isSpace(s[i])) i++;
    if (s[i] !== '=') {
      if (SECRET_KEYS.has(previousKey)) {
        // The word is probably the rest of an unquoted secret: do not echo it.
        throw bad(`missing "=" after the value of "${previousKey}"`, `quote a value that holds spaces: ${previousKey}='...'`);
      }
      // libpq: missing "=" after "key"; a lone word is often a database name.
      throw bad(`missing "=" after "${truncate(key)}"`, `write it as key=value, e.g. dbname=${truncate(key)}`);
    }
    i++;
    while (i < n && isSpace(s[i])) i++;
    let value = '';
    if (s[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const c = s[i]!;
        if (c === '\\' && i + 1 < n) {
          value += s[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          closed = true;
          break;
        } else {
          value += c;
          i++;
        }
      }
      if (!closed)
        throw bad(`unterminated quoted value for "${key}"`, "close the value with a single quote; write a quote inside it as \\'");
    } else {
      while (i < n && !isSpace(s[i])) {
        if (s[i] === '\\' && i + 1 < n) {
          value += s[i + 1];
          i += 2;
        } else value += s[i++];
      }
    }
    if (key === '') throw bad('a value without a key ("=" with nothing before it)');
    checkKeyword(key);
    out[key] = value;
    previousKey = key;
  }
  return out;
}

function decode(part: string, what: string): string {
  if (/%(?![0-9a-fA-F]{2})/.test(part)) throw bad(`invalid percent-encoding in the ${what}`);
  let v: string;
  try {
    v = decodeURIComponent(part);
  } catch {
    throw bad(`invalid percent-encoding in the ${what}`);
  }
  if (v.includes('\0')) throw bad(`forbidden %00 in the ${what}`);
  return v;
}

/** postgresql://[user[:password]@][host][:port][,...][/dbname][?key=value&...] */
function parseUri(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = s.replace(/^postgres(ql)?:\/\//i, '');
  const hash = rest.indexOf('#');
  if (hash >= 0) throw bad('a "#" fragment is not allowed in a connection URI');
  let query = '';
  const q = rest.indexOf('?');
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const slash = rest.indexOf('/');
  let authority = rest;
  if (slash >= 0) {
    authority = rest.slice(0, slash);
    const db = rest.slice(slash + 1);
    if (db !== '') out.dbname = decode(db, 'database name');
  }
  // The last "@" separates user info: passwords may hold an unencoded "@".
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
    if (user !== '') out.user = decode(user, 'user name');
    if (colon >= 0) out.password = decode(userinfo.slice(colon + 1), 'password');
  }
  if (authority !== '') {
    const hosts: string[] = [];
    const ports: string[] = [];
    for (const spec of authority.split(',')) {
      let host: string;
      let port = '';
      if (spec.startsWith('[')) {
        const close = spec.indexOf(']');
        if (close < 0) throw bad('missing "]" after an IPv6 host in the URI');
        host = spec.slice(1, close);
        if (host === '') throw bad('empty IPv6 address in brackets');
        const after = spec.slice(close + 1);
        if (after !== '' && !after.startsWith(':')) throw bad(`unexpected characters after IPv6 host "[${host}]"`);
        port = after.slice(1);
      } else {
        const colon = spec.indexOf(':');
        host = colon >= 0 ? spec.slice(0, colon) : spec;
        port = colon >= 0 ? spec.slice(colon + 1) : '';
        host = decode(host, 'host');
      }
      if (port !== '' && !/^\d+$/.test(port))
        throw bad(
          'the port in the URI is not a number',
          'write it as postgresql://host:5432/db; percent-encode "/", ":" and "@" inside a password (%2F, %3A, %40)',
        );
      hosts.push(host);
      ports.push(port);
    }
    if (hosts.some((h) => h !== '')) out.host = hosts.join(',');
    if (ports.some((p) => p !== '')) out.port = ports.join(',');
  }
  if (query !== '') {
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq < 0) throw bad(`missing "=" in URI parameter "${truncate(decode(pair, 'parameters'))}"`);
      let key = decode(pair.slice(0, eq), 'parameters');
      let value = decode(pair.slice(eq + 1), key === 'password' ? 'password' : `parameter "${key}"`);
      // libpq accepts JDBC's ssl=true as sslmode=require.
      if (key === 'ssl' && value === 'true') {
        key = 'sslmode';
        value = 'require';
      }
      checkKeyword(key);
      out[key] = value;
    }
  }
  return out;
}

function truncate(s: string): string {
  return s.length > 40 ? s.slice(0, 40) + '...' : s;
}

/** Quote a value for a key=value string when needed. */
export function quoteConnValue(v: string): string {
  if (v !== '' && /^[^\s'\\]+$/.test(v)) return v;
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Render keywords as a key=value string (the reverse of parseConnInfo). */
export function formatConnInfo(params: Record<string, string | number | undefined>): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${quoteConnValue(String(v))}`)
    .join(' ');
}

/**
 * A connection string that is safe to print: passwords (key=value, URI user info and URI
 * parameters) are replaced by "********". A string that does not parse is redacted as well as
 * can be done without parsing.
 */
export function redactConnInfo(s: string): string {
  const MASK = '********';
  if (isUri(s)) {
    let out = s.replace(/^(\s*postgres(?:ql)?:\/\/)([^/?#]*)/i, (_m, scheme: string, authority: string) => {
      const at = authority.lastIndexOf('@');
      if (at < 0) return scheme + authority;
      const userinfo = authority.slice(0, at);
      const colon = userinfo.indexOf(':');
      return colon < 0 ? scheme + authority : `${scheme}${userinfo.slice(0, colon)}:${MASK}${authority.slice(at)}`;
    });
    out = out.replace(/([?&](?:password|sslpassword|oauth_client_secret)=)[^&#]*/gi, `$1${MASK}`);
    return out;
  }
  try {
    const params = parseKeyValue(s);
    for (const k of Object.keys(params)) if (SECRET_KEYS.has(k)) params[k] = MASK;
    return formatConnInfo(params);
  } catch {
    return s.replace(/\b(password|sslpassword|oauth_client_secret)(\s*=\s*)('(?:\\.|[^'\\])*'?|\S*)/gi, `$1$2${MASK}`);
  }
}

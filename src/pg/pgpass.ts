/**
 * The libpq password file (~/.pgpass or PGPASSFILE): lines of
 * `hostname:port:database:username:password`, `*` matching anything in the first four fields,
 * `\:` and `\\` escaping, first matching line wins. Ignored (with a warning) when it is not a
 * plain file or when group or others may read it, as libpq does.
 */
import { readFileSync, statSync } from 'node:fs';
import { DEBIAN_SOCKET_DIR } from './debian-layout.js';

/** libpq's compiled-in socket directory on Debian/Ubuntu; a socket there counts as "localhost". */
export const DEFAULT_SOCKET_DIR = DEBIAN_SOCKET_DIR;

export interface PgpassQuery {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Split one line into fields, honouring `\` escapes. Returns undefined for comments/blank lines. */
export function parsePgpassLine(line: string): string[] | undefined {
  if (line.trim() === '' || line.startsWith('#')) return undefined;
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ':') {
      // The password ends at an unescaped ":" too (libpq ignores the rest of the line).
      if (fields.length === 4) break;
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields.length === 5 ? fields : undefined;
}

/** The host name a .pgpass line must match: sockets in the default directory count as localhost. */
export function pgpassHostName(host: string): string {
  if (host === '' || host === DEFAULT_SOCKET_DIR || host === '/run/postgresql') return 'localhost';
  return host;
}

/** Find the password for a connection in the file's text (pure). */
export function lookupPgpass(text: string, q: PgpassQuery): string | undefined {
  const host = pgpassHostName(q.host);
  const want = [host, String(q.port), q.database, q.user];
  for (const raw of text.split('\n')) {
    const fields = parsePgpassLine(raw.replace(/\r$/, ''));
    if (!fields) continue;
    if (want.every((w, i) => fields[i] === '*' || fields[i] === w)) {
      const pw = fields[4]!;
      return pw === '' ? undefined : pw;
    }
  }
  return undefined;
}

export interface PgpassResult {
  password?: string;
  /** Why the file was not used (e.g. its permissions), to log as a warning. */
  warning?: string;
}

/** Read the password file and look the connection up. A missing file is not an error. */
export function readPgpass(file: string, q: PgpassQuery): PgpassResult {
  let st;
  try {
    st = statSync(file);
  } catch {
    return {};
  }
  if (!st.isFile()) return { warning: `password file "${file}" is not a plain file; it is ignored` };
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    return { warning: `password file "${file}" has group or world access; it is ignored (chmod 0600 ${file})` };
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { warning: `cannot read password file "${file}": ${(e as NodeJS.ErrnoException).code}` };
  }
  return { password: lookupPgpass(text, q) };
}

/**
 * The user's checks (--check-sql FILE): SQL statements separated by semicolons, each returning one
 * row of one boolean column; a line `\c DB` (or `\connect DB`) runs the statements after it in
 * database DB (default postgres). Split here without a server: quotes ('...', "...", E'...'),
 * dollar quoting ($tag$...$tag$) and comments (--, nested /* *\/) are kept whole. Pure.
 */
import { PgkeepError } from '../errors.js';

export interface UserCheck {
  database: string;
  sql: string;
  /** Line of the file where the statement starts. */
  line: number;
}

export function parseCheckSql(text: string, file: string): UserCheck[] {
  const out: UserCheck[] = [];
  let database = 'postgres';
  let start = 0;
  let i = 0;
  const lineAt = (pos: number) => text.slice(0, pos).split('\n').length;
  const flush = (end: number) => {
    const raw = text.slice(start, end);
    // leading blanks and comments are not part of the statement's name nor line
    const lead = /^(\s|--[^\n]*(\n|$)|\/\*[\s\S]*?\*\/)*/.exec(raw)![0].length;
    const sql = raw.slice(lead).trim();
    if (sql) out.push({ database, sql, line: lineAt(start + lead) });
    start = end + 1;
  };
  while (i < text.length) {
    const c = text[i]!;
    const atLineStart = i === 0 || text[i - 1] === '\n';
    if (c === '\\' && atLineStart) {
      const end = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
      const m = /^\\(?:c|connect)\s+("[^"]+"|\S+)\s*$/.exec(text.slice(i, end).trim());
      if (!m) {
        throw new PgkeepError('USAGE', `${file}:${lineAt(i)}: only \\c DATABASE is understood, got ${text.slice(i, end).trim()}`, {
          hint: 'the file holds SQL statements, each returning one boolean, and \\c DATABASE lines',
        });
      }
      flush(i);
      database = m[1]!.replace(/^"|"$/g, '');
      start = end + 1;
      i = end + 1;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') i = skipTo(text, i, '\n');
    else if (c === '/' && text[i + 1] === '*') i = skipBlockComment(text, i);
    else if (c === "'" || c === '"') i = skipQuoted(text, i, c);
    else if (c === '$') i = skipDollar(text, i);
    else if (c === ';') {
      flush(i);
      i++;
    } else i++;
  }
  flush(text.length);
  if (out.length === 0)
    throw new PgkeepError('USAGE', `${file} holds no SQL statement`, {
      hint: 'write one check per statement, e.g. select count(*) > 0 from orders;',
    });
  return out;
}

function skipTo(text: string, i: number, end: string): number {
  const j = text.indexOf(end, i);
  return j < 0 ? text.length : j + end.length;
}

function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  while (i < text.length) {
    if (text.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (text.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return i;
}

function skipQuoted(text: string, i: number, q: string): number {
  const escapes = q === "'" && i > 0 && /[eE]/.test(text[i - 1]!);
  for (let j = i + 1; j < text.length; j++) {
    if (escapes && text[j] === '\\') j++;
    else if (text[j] === q) {
      if (text[j + 1] === q) j++;
      else return j + 1;
    }
  }
  return text.length;
}

function skipDollar(text: string, i: number): number {
  const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
  if (!m) return i + 1;
  return skipTo(text, i + m[0].length, m[0]);
}

/** A statement shortened for a check's name: its first line, at most 80 characters. */
export function checkName(c: UserCheck): string {
  const first = c.sql.replace(/\s+/g, ' ');
  return `sql line ${c.line}: ${first.length > 80 ? `${first.slice(0, 77)}...` : first}`;
}

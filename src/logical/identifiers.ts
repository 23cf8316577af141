/**
 * SQL identifiers as users type them: `orders`, `sales.orders`, `"Sales"."Order Lines"`,
 * `"a""b"`. Unquoted parts fold to lower case (as PostgreSQL does); quoted parts keep their
 * case and may contain dots, commas and doubled quotes. Pure, no I/O.
 */
import { PgkeepError } from '../errors.js';

/** A possibly schema-qualified name, parts as stored in the catalogs (unquoted). */
export interface QualifiedName {
  schema?: string;
  name: string;
}

/** Quote one identifier for SQL: always double-quoted, inner quotes doubled. */
export function quoteIdent(part: string): string {
  if (part.includes('\0')) throw new PgkeepError('USAGE', 'identifiers cannot contain NUL characters');
  return `"${part.replace(/"/g, '""')}"`;
}

/** `schema.name` or `name`, each part quoted. */
export function quoteQualified(q: QualifiedName): string {
  return q.schema !== undefined ? `${quoteIdent(q.schema)}.${quoteIdent(q.name)}` : quoteIdent(q.name);
}

/** Display form: parts quoted only when needed (as pg_dump and psql print them). */
export function displayQualified(q: QualifiedName): string {
  const show = (p: string) => (/^[a-z_][a-z0-9_$]*$/.test(p) ? p : quoteIdent(p));
  return q.schema !== undefined ? `${show(q.schema)}.${show(q.name)}` : show(q.name);
}

/**
 * Split `text` into identifier parts at `separator` (outside double quotes), unquoting and
 * case-folding. Throws USAGE on an unterminated quote or an empty part.
 */
export function splitIdentifiers(text: string, separator: '.' | ',', what: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quotedPart = false;
  let sawAny = false;
  let i = 0;
  const bad = (why: string) =>
    new PgkeepError('USAGE', `invalid ${what} "${text}": ${why}`, {
      hint: 'write names as in SQL: name, schema.name, or "Mixed Case"."name.with.dots"',
    });
  const endPart = () => {
    const value = quotedPart ? cur : cur.trim().toLowerCase();
    if (!quotedPart && value === '') throw bad('empty name');
    parts.push(value);
    cur = '';
    quotedPart = false;
    sawAny = false;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      if (sawAny && cur.trim() !== '') throw bad('a quote in the middle of a name');
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw bad('unterminated quote');
        if (text[j] === '"') {
          if (text[j + 1] === '"') {
            value += '"';
            j += 2;
            continue;
          }
          break;
        }
        value += text[j];
        j++;
      }
      if (value === '') throw bad('empty quoted name');
      cur = value;
      quotedPart = true;
      sawAny = true;
      i = j + 1;
      // Only blanks may follow a closing quote before the separator.
      while (i < text.length && text[i] !== separator) {
        if (!/\s/.test(text[i]!)) throw bad('text after a closing quote');
        i++;
      }
      continue;
    }
    if (c === separator) {
      endPart();
      i++;
      continue;
    }
    cur += c;
    sawAny = true;
    i++;
  }
  endPart();
  return parts;
}

/** Parse `name` or `schema.name` (quoted parts allowed). */
export function parseQualifiedName(text: string, what = 'table name'): QualifiedName {
  const parts = splitIdentifiers(text, '.', what);
  if (parts.length === 1) return { name: parts[0]! };
  if (parts.length === 2) return { schema: parts[0]!, name: parts[1]! };
  throw new PgkeepError('USAGE', `invalid ${what} "${text}": use name or schema.name`, {
    hint: 'quote a name that contains a dot: "my.table"',
  });
}

/** Parse a column list `a,b,"C d"`. */
export function parseColumnList(text: string): string[] {
  return splitIdentifiers(text, ',', 'column list');
}

/**
 * Reading the SQL script `pg_restore --data-only -f -` writes for TABLE DATA entries, as it
 * streams: session settings at the head (SET ..., SELECT pg_catalog.set_config(...)), then per
 * table a `COPY <table> (<columns>) FROM stdin;` line, its rows in COPY text format, and a `\.`
 * line. Rows are handed on in batches cut at row ends, so a batch can go to any session: in COPY
 * text format a row is exactly one line (newlines inside values are written as \n), and a line
 * `\.` cannot be a row (a backslash in a value is written as \\).
 */
import type { Readable } from 'node:stream';

export type CopyStreamEvent =
  /** A statement outside the data (a session setting), to run on every session before its COPY. */
  | { kind: 'setting'; sql: string }
  /** A table's data begins: the COPY statement, and the table as written in it. */
  | { kind: 'start'; sql: string; table: string }
  /** Whole rows of the current table, in pieces (slices of the input, not copied), `bytes` in all. */
  | { kind: 'rows'; data: Buffer[]; bytes: number }
  | { kind: 'end' };

const END_LINE = Buffer.from('\\.\n');
const END_AFTER_ROW = Buffer.from('\n\\.\n');
const NL = 0x0a;

/** "COPY public.big (id, k) FROM stdin;" -> "public.big" (undefined for any other line). */
export function copyTarget(line: string): string | undefined {
  const m = /^COPY (.+?)(?: \(.*\))? FROM stdin;$/.exec(line);
  return m?.[1];
}

/** A statement outside the data that is not a session setting: the script is not one this reader can split. */
export class UnexpectedStatement extends Error {}

/** The script ended inside a table's rows (pg_restore failed while writing it). */
export class ScriptCut extends Error {}

/** `\restrict KEY` / `\unrestrict KEY`: psql meta-commands pg_restore 13.22, 14.19, 15.14, 16.10, 17.6 and later write around a script. */
function isPsqlRestrict(line: string): boolean {
  return /^\\(un)?restrict [A-Za-z0-9]+$/.test(line);
}

const UTF8_NAMES = new Set(['UTF8', 'UTF-8', 'UNICODE']);

function isSetting(sql: string): boolean {
  return /^SET [a-z_.]+ (=|TO) /i.test(sql) || /^SELECT pg_catalog\.set_config\(/.test(sql);
}

/**
 * The events of the script, rows in batches of about `batchBytes` (never more than one input
 * chunk over). Throws UnexpectedStatement for SQL other than settings between tables, and an
 * Error when the script ends inside a table's rows.
 */
export async function* copyStreamEvents(
  input: AsyncIterable<Buffer> | Iterable<Buffer> | Readable,
  batchBytes: number,
): AsyncGenerator<CopyStreamEvent> {
  let inCopy = false;
  let table = '';
  /** Bytes not yet handled: outside the data, an unfinished line; inside, an unfinished row. */
  let carry: Buffer = Buffer.alloc(0);
  let batch: Buffer[] = [];
  let batched = 0;
  let statement = '';
  /** The script's client_encoding (pg_restore sets it first): the COPY line is sent as UTF-8 text. */
  let clientEncoding = 'UTF8';

  function* outside(buf: Buffer): Generator<CopyStreamEvent, Buffer> {
    let at = 0;
    while (!inCopy) {
      const nl = buf.indexOf(NL, at);
      if (nl < 0) break;
      const raw = buf.subarray(at, nl);
      const line = raw.toString('utf8');
      at = nl + 1;
      if (statement === '' && (line.trim() === '' || line.startsWith('--') || isPsqlRestrict(line))) continue;
      const target = statement === '' ? copyTarget(line) : undefined;
      if (target !== undefined) {
        // a name's bytes in another encoding would reach the server re-encoded as UTF-8: refuse instead
        if (!UTF8_NAMES.has(clientEncoding) && raw.some((b) => b >= 0x80))
          throw new UnexpectedStatement(
            `a COPY line names a table with non-ASCII characters in client encoding ${clientEncoding}: ${line.slice(0, 200)}`,
          );
        inCopy = true;
        table = target;
        yield { kind: 'start', sql: line, table };
        break;
      }
      statement += (statement ? '\n' : '') + line;
      if (!line.trimEnd().endsWith(';')) continue;
      const sql = statement.trim();
      statement = '';
      if (!isSetting(sql)) throw new UnexpectedStatement(`unexpected statement between table data: ${sql.slice(0, 200)}`);
      clientEncoding = /^SET client_encoding = '([^']*)';$/i.exec(sql)?.[1]?.toUpperCase() ?? clientEncoding;
      yield { kind: 'setting', sql };
    }
    return buf.subarray(at);
  }

  function* flush(): Generator<CopyStreamEvent> {
    if (!batched) return;
    const data = batch;
    const bytes = batched;
    batch = [];
    batched = 0;
    yield { kind: 'rows', data, bytes };
  }

  /** Rows up to the end line, if it is in `buf` (which starts at a row's start). */
  function* rows(buf: Buffer): Generator<CopyStreamEvent, Buffer> {
    const lastNl = buf.lastIndexOf(NL);
    if (lastNl < 0) return buf;
    const whole = buf.subarray(0, lastNl + 1);
    const end = whole.subarray(0, END_LINE.length).equals(END_LINE) ? 0 : whole.indexOf(END_AFTER_ROW);
    if (end < 0) {
      batch.push(whole);
      batched += whole.length;
      if (batched >= batchBytes) yield* flush();
      return buf.subarray(lastNl + 1);
    }
    const rowsEnd = end === 0 ? 0 : end + 1;
    if (rowsEnd > 0) {
      batch.push(whole.subarray(0, rowsEnd));
      batched += rowsEnd;
    }
    yield* flush();
    yield { kind: 'end' };
    inCopy = false;
    return buf.subarray(rowsEnd + END_LINE.length);
  }

  for await (const chunk of input) {
    // A row cut by the chunk's start is completed with a small copy; the rest is used in place.
    let pieces: Buffer[];
    if (inCopy && carry.length) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      pieces = [Buffer.concat([carry, chunk.subarray(0, nl + 1)]), chunk.subarray(nl + 1)];
    } else pieces = [carry.length ? Buffer.concat([carry, chunk]) : chunk];
    let buf: Buffer = Buffer.alloc(0);
    for (const piece of pieces) {
      buf = buf.length ? Buffer.concat([buf, piece]) : piece;
      for (;;) {
        const before: boolean = inCopy;
        buf = inCopy ? yield* rows(buf) : yield* outside(buf);
        if (inCopy === before) break;
      }
    }
    // Inside the data, `buf` is at most one unfinished row; outside, one unfinished line.
    carry = Buffer.from(buf);
  }
  if (inCopy) throw new ScriptCut(`pg_restore's output ended inside the rows of ${table}`);
  const rest = carry.toString().trim();
  if (statement.trim() || (rest && !isPsqlRestrict(rest))) {
    const sql = (statement + rest).trim();
    if (!isSetting(sql)) throw new UnexpectedStatement(`unexpected statement between table data: ${sql.slice(0, 200)}`);
    yield { kind: 'setting', sql };
  }
}

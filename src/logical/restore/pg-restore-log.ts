/**
 * Reading `pg_restore --verbose` stderr as it comes (pure, line by line): progress ("creating
 * TABLE ...", "processing data for table ..."), errors with the TOC entry they belong to
 * ("from TOC entry 218; 1259 16390 TABLE orders app_owner", then "error: ...", then DETAIL,
 * CONTEXT and "Command was:" lines), and the final count of ignored errors.
 * psql's stderr ("psql:<stdin>:12: ERROR:  ...") is understood too, for plain-format restores.
 */

export interface RestoreErrorInfo {
  /** Dump id of the TOC entry that failed, when pg_restore named one. */
  dumpId?: number;
  /** The entry as pg_restore printed it: "TABLE orders app_owner". */
  entry?: string;
  /** The server's (or the tool's) message, first line. */
  message: string;
  /** DETAIL / CONTEXT / HINT lines. */
  detail: string[];
  /** The SQL that failed (shortened). */
  command?: string;
  /** psql: the input line number. */
  line?: number;
}

export type RestoreLogEvent = { kind: 'progress'; text: string } | { kind: 'error'; error: RestoreErrorInfo };

const COMMAND_MAX = 400;

export class PgRestoreLog {
  readonly errors: RestoreErrorInfo[] = [];
  /** "errors ignored on restore: N" (only printed when going on after errors). */
  ignored?: number;
  private currentEntry?: { dumpId: number; text: string };
  private last?: RestoreErrorInfo;
  private inCommand = false;

  /** Feed one stderr line; returns what it means, if anything new. */
  push(line: string): RestoreLogEvent | undefined {
    const psql = /^psql:[^:]*:(\d+): (?:ERROR|FATAL):\s+(.*)$/.exec(line);
    if (psql) return this.addError({ message: psql[2]!, detail: [], line: Number(psql[1]) });
    const psqlMore = /^psql:[^:]*:\d+: (DETAIL|HINT|CONTEXT|LINE \d+):\s*(.*)$/.exec(line);
    if (psqlMore && this.last) {
      this.last.detail.push(`${psqlMore[1]}: ${psqlMore[2]}`);
      return undefined;
    }
    const m = /^pg_restore: (.*)$/.exec(line);
    if (!m) {
      this.continuation(line);
      return undefined;
    }
    this.inCommand = false;
    const body = m[1]!;
    const from = /^from TOC entry (\d+); \d+ \d+ (.*)$/.exec(body);
    if (from) {
      this.currentEntry = { dumpId: Number(from[1]), text: from[2]! };
      return undefined;
    }
    const ignored = /^warning: errors ignored on restore: (\d+)$/.exec(body);
    if (ignored) {
      this.ignored = Number(ignored[1]);
      return undefined;
    }
    const err = /^error: (.*)$/.exec(body);
    if (err) {
      const message = err[1]!.replace(/^could not execute query: /, '').replace(/^(ERROR|FATAL):\s+/, '');
      return this.addError({
        ...(this.currentEntry ? { dumpId: this.currentEntry.dumpId, entry: this.currentEntry.text } : {}),
        message,
        detail: [],
      });
    }
    if (body === 'while PROCESSING TOC:' || body.startsWith('warning: ')) return undefined;
    // Any other line is progress and ends the previous entry's context.
    this.currentEntry = undefined;
    this.last = undefined;
    return { kind: 'progress', text: body };
  }

  private addError(e: RestoreErrorInfo): RestoreLogEvent {
    this.errors.push(e);
    this.last = e;
    return { kind: 'error', error: e };
  }

  private continuation(line: string): void {
    const e = this.last;
    if (!e) return;
    const cmd = /^Command was: (.*)$/.exec(line);
    if (cmd) {
      e.command = cmd[1]!;
      this.inCommand = true;
      return;
    }
    if (this.inCommand) {
      if (line.trim() === '') return;
      if ((e.command ?? '').length < COMMAND_MAX) e.command = `${e.command}\n${line}`.slice(0, COMMAND_MAX);
      return;
    }
    const d = /^(DETAIL|HINT|CONTEXT|LINE \d+):\s*(.*)$/.exec(line);
    if (d) e.detail.push(`${d[1]}: ${d[2]}`);
  }
}

/** One line for a person: `TABLE DATA orders (TOC entry 3425): duplicate key ...`. */
export function describeRestoreError(e: RestoreErrorInfo, objectName?: string): string {
  const where = objectName ?? e.entry;
  const at = where
    ? `${where}${e.dumpId !== undefined ? ` (TOC entry ${e.dumpId})` : ''}: `
    : e.line !== undefined
      ? `line ${e.line}: `
      : '';
  return `${at}${e.message}`;
}

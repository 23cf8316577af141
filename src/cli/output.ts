/**
 * Everything the CLI prints goes through here, so `--json` and human output stay consistent and
 * nothing else writes to stdout. Logs and progress go to stderr.
 */
import type { LogLevel } from '../config/log-level.js';
import { PgkeepError } from '../errors.js';

export { LOG_LEVELS, type LogLevel } from '../config/log-level.js';
const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

export function createLogger(level: LogLevel, stream: NodeJS.WritableStream = process.stderr): Logger {
  const at = LEVELS[level];
  const emit = (l: LogLevel, msg: string) => {
    if (LEVELS[l] <= at) stream.write(`pgkeep: ${l === 'info' ? '' : l + ': '}${msg}\n`);
  };
  return {
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
  };
}

export interface Output {
  readonly json: boolean;
  /** Print a command's result: JSON when --json, otherwise the text renderer's lines. */
  result<T>(data: T, renderText: (data: T) => string): void;
  /** Print a line of human text (suppressed with --json). */
  line(text?: string): void;
  /** Print an error in the chosen format (text to stderr, JSON to stdout). */
  error(err: PgkeepError): void;
}

export function createOutput(
  json: boolean,
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Output {
  return {
    json,
    result(data, renderText) {
      if (json) stdout.write(JSON.stringify(data, jsonReplacer, 2) + '\n');
      else {
        const text = renderText(data);
        if (text) stdout.write(text.endsWith('\n') ? text : text + '\n');
      }
    },
    line(text = '') {
      if (!json) stdout.write(text + '\n');
    },
    error(err) {
      if (json) stdout.write(JSON.stringify(err.toJSON(), jsonReplacer, 2) + '\n');
      else {
        stderr.write(`pgkeep: error: ${err.message}\n`);
        if (err.hint) stderr.write(`hint: ${err.hint}\n`);
        for (const note of err.notes) stderr.write(`note: ${note}\n`);
      }
    },
  };
}

/** bigint (LSNs, sizes) serialise as strings in JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Format a byte count the way DBAs read it (1024-based, as pg_size_pretty). */
export function formatBytes(n: number | bigint): string {
  let v = Number(n);
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (Math.abs(v) >= 10240 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} bytes` : `${Math.round(v)} ${units[i]}`;
}

/** Render rows as an aligned text table (psql-like), header first. */
export function table(headers: string[], rows: (string | number | bigint | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [fmt(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(fmt)].join('\n');
}

/**
 * One error type for everything pgkeep reports to a user. Each code is stable (scripts and
 * monitoring match on it) and maps to one documented exit code (docs/exit-codes.md).
 */

import { targetDiskError } from './disk-errors.js';

export const ERROR_CODES = {
  /** Bad command line: unknown flag, missing argument, conflicting options. */
  USAGE: 2,
  /** Configuration file or environment is invalid (unknown key, wrong type, unreadable file). */
  CONFIG: 3,
  /** Could not connect to or authenticate with the PostgreSQL server. */
  CONNECTION: 4,
  /** Server reachable but not ready for what was asked (wal_level, permissions, version...). */
  SERVER_NOT_READY: 5,
  /** Repository unusable: missing, not a pgkeep repository, unsupported format, I/O failure. */
  REPOSITORY: 6,
  /** Data failed an integrity check: checksum mismatch, damaged object, corrupt page. */
  DATA_INTEGRITY: 7,
  /** A named thing does not exist: backup id, cluster, table, WAL segment, database. */
  NOT_FOUND: 8,
  /** The passphrase does not unwrap the repository key, or none was given for an encrypted repo. */
  PASSPHRASE: 9,
  /** Another process holds a conflicting repository lock. */
  LOCKED: 10,
  /** The operation would overwrite or conflict with existing data (non-empty dir, existing name). */
  CONFLICT: 11,
  /** A required external tool (pg_dump, initdb...) is missing or of the wrong version. */
  TOOL_MISSING: 12,
  /** A command or feature that is not supported (yet) in this situation. */
  UNSUPPORTED: 13,
  /** Interrupted by a signal (SIGINT/SIGTERM) before finishing. */
  INTERRUPTED: 14,
  /** Unexpected internal failure: a bug. Please report it with the --log-level debug output. */
  INTERNAL: 70,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * The exit codes that are no error of the table above: success, `wal get`'s answers to
 * restore_command, which PostgreSQL reads its own way, and `status`'s Nagios states (docs/exit-codes.md). Together with
 * ERROR_CODES these are every exit code pgkeep uses; scripts/check-boundaries.mjs refuses a bare
 * number elsewhere.
 */
export const EXIT = {
  OK: 0,
  /** `wal get`: the file is not in the archive (recovery moves on). */
  WAL_GET_NOT_FOUND: 1,
  /** `wal get`: a real failure; above 125, so that recovery stops instead of ending early. */
  WAL_GET_FAILED: 126,
  /** `status`: Nagios's plugin codes, the worst state of the health checks (docs/exit-codes.md). */
  STATUS_OK: 0,
  STATUS_WARN: 1,
  STATUS_CRITICAL: 2,
  STATUS_UNKNOWN: 3,
} as const;

/** The exit code of an error code. */
export function exitCodeOf(code: ErrorCode): number {
  return ERROR_CODES[code];
}

export interface PgkeepErrorOptions {
  /** What the user should do about it; printed after the message. */
  hint?: string;
  /** Extra machine-readable facts (never secrets) included in --json output. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class PgkeepError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly details?: Record<string, unknown>;
  /** Secondary failures met while cleaning up after this error (src/cleanup.ts); shown after the hint. */
  readonly notes: string[] = [];

  constructor(code: ErrorCode, message: string, options: PgkeepErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PgkeepError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): number {
    return exitCodeOf(this.code);
  }

  toJSON(): Record<string, unknown> {
    return {
      error: {
        code: this.code,
        exitCode: this.exitCode,
        message: this.message,
        ...(this.hint ? { hint: this.hint } : {}),
        ...(this.details ? { details: this.details } : {}),
        ...(this.notes.length ? { notes: this.notes } : {}),
      },
    };
  }
}

export function isPgkeepError(e: unknown): e is PgkeepError {
  return e instanceof PgkeepError;
}

/**
 * Wrap anything thrown into a PgkeepError: a full disk, quota, read-only file system or missing
 * permission outside the repository becomes CONFLICT naming the path (disk-errors.ts); anything
 * else unknown is INTERNAL.
 */
export function toPgkeepError(e: unknown): PgkeepError {
  if (e instanceof PgkeepError) return e;
  const disk = diskFullError(e);
  if (disk) return disk;
  const message = e instanceof Error ? e.message : String(e);
  const wrapped = new PgkeepError('INTERNAL', `unexpected error: ${message}`, {
    hint: 'this is a bug in pgkeep; rerun with --log-level debug and report the output',
    cause: e,
  });
  const notes = (e as { notes?: unknown } | null)?.notes;
  if (Array.isArray(notes)) wrapped.notes.push(...notes.map(String));
  return wrapped;
}

/** A disk error outside the repository (full, quota, read-only, permission) as CONFLICT; undefined for anything else. */
export function diskFullError(e: unknown, where?: Parameters<typeof targetDiskError>[1]): PgkeepError | undefined {
  const d = targetDiskError(e, where);
  return d && new PgkeepError(d.code, d.message, { hint: d.hint, details: d.details, cause: e });
}

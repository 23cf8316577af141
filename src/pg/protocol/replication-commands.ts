/**
 * Text of the replication commands pgkeep sends on a walsender connection (no I/O).
 * BASE_BACKUP has two dialects (base-backup-dialect.ts): on 15+ the parenthesised option syntax,
 * always with TARGET 'client' (without it PostgreSQL 15 falls back to the legacy framing); on 13
 * and 14 the older bare-keyword syntax.
 */
import { PgkeepError } from '../../errors.js';
import type { BaseBackupDialect } from './base-backup-dialect.js';
import { type Lsn, formatLsn } from '../lsn.js';

/** A SQL string literal ('' doubles a quote; standard_conforming_strings is always on). */
export function quoteLiteral(s: string): string {
  if (s.includes('\0')) throw new PgkeepError('USAGE', 'text sent to the server cannot contain a NUL character');
  return `'${s.replace(/'/g, "''")}'`;
}

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/** Replication slot names: lower-case letters, digits and underscores, at most 63 (as the server demands). */
export function checkSlotName(name: string): string {
  if (!SLOT_NAME.test(name)) {
    throw new PgkeepError('USAGE', `invalid replication slot name "${name}"`, {
      hint: 'a slot name has 1 to 63 characters: lower-case letters, digits and underscores',
    });
  }
  return name;
}

export interface BaseBackupOptions {
  /** backup_label's LABEL line (default "pgkeep base backup"). */
  label?: string;
  /** Request an immediate checkpoint (CHECKPOINT 'fast') instead of waiting for a spread one. */
  fast?: boolean;
  /** Include the WAL needed for consistency in the tar stream (pg_wal/...). */
  wal?: boolean;
  /** Wait for the last segment to be archived before ending (default true, the server's default). */
  waitForArchive?: boolean;
  /** Size estimates first (tablespace sizes, `totalBytes`); default true. The server sends 'p' progress messages either way. */
  progress?: boolean;
  /** Server-side rate limit in kB/s (32 .. 1048576). */
  maxRateKbps?: number;
  /** Ask for the backup_manifest (default true). */
  manifest?: boolean;
  /** Checksum algorithm in the manifest (default SHA256, so our own SHA-256 compares directly). */
  manifestChecksums?: 'NONE' | 'CRC32C' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512';
  /** Send tablespace_map instead of the pg_tblspc symlinks' targets only. */
  tablespaceMap?: boolean;
  /** Skip the server's page checksum verification (VERIFY_CHECKSUMS false). */
  noVerifyChecksums?: boolean;
}

/** The option words of each dialect (13/14 spell the same options differently). */
const WORDS: Record<BaseBackupDialect, { fast: string; noWait: string; noVerify: string }> = {
  current: { fast: `CHECKPOINT 'fast'`, noWait: 'WAIT false', noVerify: 'VERIFY_CHECKSUMS false' },
  legacy: { fast: 'FAST', noWait: 'NOWAIT', noVerify: 'NOVERIFY_CHECKSUMS' },
};

/** BASE_BACKUP in the server's dialect (default: 15+). */
export function buildBaseBackupCommand(o: BaseBackupOptions = {}, dialect: BaseBackupDialect = 'current'): string {
  const w = WORDS[dialect];
  const opts = [`LABEL ${quoteLiteral(o.label ?? 'pgkeep base backup')}`];
  if (o.progress !== false) opts.push('PROGRESS');
  if (o.fast) opts.push(w.fast);
  if (o.wal) opts.push('WAL');
  if (o.waitForArchive === false) opts.push(w.noWait);
  if (o.maxRateKbps !== undefined) {
    if (!Number.isInteger(o.maxRateKbps) || o.maxRateKbps < 32 || o.maxRateKbps > 1048576) {
      throw new PgkeepError('USAGE', `invalid maximum transfer rate ${o.maxRateKbps} kB/s`, {
        hint: 'the server accepts 32 kB/s to 1 GB/s (1048576 kB/s)',
      });
    }
    opts.push(`MAX_RATE ${o.maxRateKbps}`);
  }
  if (o.tablespaceMap) opts.push('TABLESPACE_MAP');
  if (o.noVerifyChecksums) opts.push(w.noVerify);
  if (o.manifest !== false) {
    opts.push(`MANIFEST 'yes'`, `MANIFEST_CHECKSUMS ${quoteLiteral(o.manifestChecksums ?? 'SHA256')}`);
  }
  if (dialect === 'legacy') return `BASE_BACKUP ${opts.join(' ')}`;
  opts.push(`TARGET 'client'`);
  return `BASE_BACKUP (${opts.join(', ')})`;
}

export interface StartReplicationOptions {
  /** Physical slot to stream from (it then keeps WAL until we report it flushed). */
  slot?: string;
  /** First LSN wanted; the server starts at the beginning of the WAL page holding it. */
  startLsn: Lsn;
  /** Timeline of startLsn (omit for the server's current timeline). */
  timeline?: number;
}

export function buildStartReplicationCommand(o: StartReplicationOptions): string {
  const parts = ['START_REPLICATION'];
  if (o.slot !== undefined) parts.push('SLOT', checkSlotName(o.slot));
  parts.push('PHYSICAL', formatLsn(o.startLsn));
  if (o.timeline !== undefined) {
    if (!Number.isInteger(o.timeline) || o.timeline < 1 || o.timeline > 0xffff_ffff) {
      throw new PgkeepError('USAGE', `invalid timeline ${o.timeline}`, { hint: 'timelines are positive integers' });
    }
    parts.push('TIMELINE', String(o.timeline));
  }
  return parts.join(' ');
}

/**
 * CREATE_REPLICATION_SLOT's syntax on a server: 15 brought the parenthesised options
 * (`PHYSICAL (RESERVE_WAL)`) and keeps the older bare keyword only for compatibility; 13 and 14
 * know the bare keyword alone.
 */
export function slotCommandDialect(serverVersionNum: number): BaseBackupDialect {
  return serverVersionNum >= 150000 ? 'current' : 'legacy';
}

export function buildCreatePhysicalSlotCommand(
  name: string,
  o: { reserveWal?: boolean; temporary?: boolean } = {},
  dialect: BaseBackupDialect = 'current',
): string {
  const head = `CREATE_REPLICATION_SLOT ${checkSlotName(name)}${o.temporary ? ' TEMPORARY' : ''} PHYSICAL`;
  if (!o.reserveWal) return head;
  return dialect === 'legacy' ? `${head} RESERVE_WAL` : `${head} (RESERVE_WAL)`;
}

export function buildDropSlotCommand(name: string, o: { wait?: boolean } = {}): string {
  return `DROP_REPLICATION_SLOT ${checkSlotName(name)}${o.wait ? ' WAIT' : ''}`;
}

export function buildTimelineHistoryCommand(tli: number): string {
  if (!Number.isInteger(tli) || tli < 1 || tli > 0xffff_ffff) {
    throw new PgkeepError('USAGE', `invalid timeline ${tli}`, { hint: 'timelines are positive integers' });
  }
  return `TIMELINE_HISTORY ${tli}`;
}

/** Setting names for SHOW: letters, digits, underscores and dots (custom settings). */
export function buildShowCommand(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) {
    throw new PgkeepError('USAGE', `invalid setting name "${name}"`);
  }
  return `SHOW ${name}`;
}

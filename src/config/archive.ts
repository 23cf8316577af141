/**
 * `[archive]`: how `wal push` stores WAL. Off by default: a synchronous push has no moving part
 * besides the command PostgreSQL runs (see docs/configuration.md, "Asynchronous archiving").
 */
import { PgkeepError } from '../errors.js';
import { type Codec, parseCodec } from '../repo/codec.js';
import type { ArchiveSettings } from './types.js';

export const DEFAULT_PUSH_JOBS = 2;
export const DEFAULT_QUEUE_ALERT_SEGMENTS = 64;

export function archiveSettings(t: Record<string, unknown>, env: NodeJS.ProcessEnv, file: string | undefined): ArchiveSettings {
  const out: ArchiveSettings = {
    async: env.PGKEEP_ARCHIVE_ASYNC !== undefined ? onOff(env.PGKEEP_ARCHIVE_ASYNC) : ((t.async as boolean | undefined) ?? false),
    pushJobs: bounded(t.push_jobs, DEFAULT_PUSH_JOBS, 1, 16, `archive.push_jobs in ${file}`),
    queueAlertSegments: bounded(
      t.queue_alert_segments,
      DEFAULT_QUEUE_ALERT_SEGMENTS,
      1,
      1_000_000,
      `archive.queue_alert_segments in ${file}`,
    ),
  };
  if (t.spool_path !== undefined) out.spoolPath = t.spool_path as string;
  if (t.compression !== undefined) out.compression = walCodec(t.compression as string, file);
  return out;
}

function walCodec(spec: string, file: string | undefined): Codec {
  try {
    return parseCodec(spec, `archive.compression in ${file}`);
  } catch (e) {
    throw e instanceof PgkeepError ? new PgkeepError('CONFIG', e.message, e.hint ? { hint: e.hint } : {}) : e;
  }
}

function onOff(v: string): boolean {
  if (/^(1|on|true|yes)$/i.test(v)) return true;
  if (/^(0|off|false|no)$/i.test(v)) return false;
  throw new PgkeepError('CONFIG', `PGKEEP_ARCHIVE_ASYNC must be on or off, not "${v}"`);
}

function bounded(v: unknown, fallback: number, min: number, max: number, key: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (n < min || n > max) throw new PgkeepError('CONFIG', `${key} must be from ${min} to ${max}, not ${n}`);
  return n;
}

/** The backup-relevant settings (pg_settings). */

import { Queryable } from './queryable.js';

/** The settings that decide how (and whether) a cluster can be backed up. */
export const BACKUP_SETTINGS = [
  'wal_level',
  'archive_mode',
  'archive_command',
  'archive_library',
  'archive_timeout',
  'max_wal_senders',
  'max_replication_slots',
  'wal_keep_size',
  'max_slot_wal_keep_size',
  'summarize_wal',
  'wal_summary_keep_time',
  'data_checksums',
  'full_page_writes',
  'wal_log_hints',
  'wal_compression',
  'wal_segment_size',
  'block_size',
  'max_wal_size',
  'checkpoint_timeout',
  'data_directory',
  'config_file',
  'hba_file',
  'listen_addresses',
  'port',
] as const;

export interface Setting {
  name: string;
  /** The value as the server reports it, with `unit` (archive_command: the configured value). */
  setting: string;
  unit: string | null;
  /** postmaster = restart to change; sighup = reload; internal = fixed at initdb/build. */
  context: string;
  source: string;
  /** Changed in the config file but waiting for a restart. */
  pendingRestart: boolean;
}

/**
 * Read settings from pg_settings (rows the user may not see, such as data_directory without
 * pg_read_all_settings, are simply absent). archive_command shows "(disabled)" while
 * archive_mode is off, so its configured value (reset_val) is returned instead.
 */
export async function readSettings(db: Queryable, names: readonly string[] = BACKUP_SETTINGS): Promise<Setting[]> {
  const { rows } = await db.query(
    `
    SELECT name, CASE WHEN name = 'archive_command' THEN reset_val ELSE setting END AS setting,
           unit, context, source, pending_restart
      FROM pg_settings WHERE name = ANY($1::text[])`,
    [names],
  );
  const order = new Map(names.map((n, i) => [n, i]));
  return rows
    .map((r) => ({
      name: r.name as string,
      setting: r.setting as string,
      unit: (r.unit as string | null) ?? null,
      context: r.context as string,
      source: r.source as string,
      pendingRestart: Boolean(r.pending_restart),
    }))
    .sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
}

/** Settings as a name -> value map. */
export function settingsMap(settings: Setting[]): Map<string, string> {
  return new Map(settings.map((s) => [s.name, s.setting]));
}

/**
 * The shape of pgkeep.toml. Every key the file may hold is listed here with its type, so unknown
 * keys and wrong types are reported with the key's full name and the file. Later features add
 * their keys here (one line each).
 */

import { MONITOR_FIELDS, NOTIFY_FIELDS } from './monitor-fields.js';
import { DRILL_FIELDS } from './drill.js';
import { DASHBOARD_FIELDS } from './dashboard.js';

export type FieldType = 'string' | 'integer' | 'boolean';

export interface Section {
  /** Keys of this table and their types. */
  fields: Record<string, FieldType>;
  /** When true, the table holds named sub-tables (e.g. [cluster.main]) each with `fields`. */
  named?: boolean;
  /** Sub-tables each named table may hold (e.g. [cluster.main.schedule]), with their keys. */
  tables?: Record<string, Record<string, FieldType>>;
}

export const CONFIG_SCHEMA: Record<string, Section> = {
  repo: {
    fields: {
      path: 'string', // local directory or s3://bucket/prefix
      compression: 'string', // none | gzip[:level] | lz4 | zstd[:level]
      chunk_size: 'string', // e.g. "128k"
      passphrase_file: 'string',
      s3_endpoint: 'string',
      s3_region: 'string',
      s3_path_style: 'boolean',
      s3_timeout: 'string', // e.g. "60s": bound of one S3 request, retries included
    },
  },
  cluster: {
    named: true,
    fields: {
      connection: 'string', // libpq URI or key=value string
      pgdata: 'string',
      pg_bin: 'string', // directory with the server/client binaries to use
    },
    tables: {
      // What `pgkeep agent` runs for this cluster (docs/operations.md): cron expressions, 5 or 6 fields.
      schedule: {
        backup_full: 'string', // backup that reads every file (--checksum-all)
        backup_incremental: 'string', // backup that skips files whose size and mtime did not change
        backup_method: 'string', // stream | local (default stream)
        dump: 'string', // pgkeep dump --all
        expire: 'string', // pgkeep expire, then pgkeep repo gc
        verify: 'string', // pgkeep verify latest
        drill: 'string', // pgkeep drill ([drill] gives its options)
        timezone: 'string', // IANA name; default [agent] timezone
        stream: 'boolean', // supervise `pgkeep wal stream`
        stream_slot: 'string', // its replication slot (created if absent)
      },
    },
  },
  backup: {
    fields: {
      archive_timeout: 'string', // e.g. "60s": longest wait for the backup's WAL to be archived
      checkpoint: 'string', // "fast" (default) or "spread": the checkpoint a hot backup starts from
    },
  },
  archive: {
    fields: {
      async: 'boolean', // wal push through a background pusher (default false)
      compression: 'string', // codec of pushed WAL: none | gzip[:level] | lz4 | zstd[:level] (default zstd:1)
      push_jobs: 'integer', // segments the pusher stores in parallel (default 2)
      queue_alert_segments: 'integer', // .ready backlog that raises the queue alert (default 64)
      spool_path: 'string', // where acknowledgements and the status file live (default <pg_wal>/pgkeep-spool)
    },
  },
  restore: {
    fields: {
      prefetch: 'integer', // segments restore_command keeps fetched ahead of recovery (0: off)
    },
  },
  retention: {
    fields: {
      keep_last: 'integer',
      keep_days: 'integer',
    },
  },
  agent: {
    fields: {
      state_dir: 'string', // where the agent keeps its lock and state.json
      timezone: 'string', // of every schedule (IANA name, default the host's)
      stop_timeout: 'string', // bound of a clean stop (SIGTERM): running jobs are interrupted, then killed
      catch_up: 'boolean', // run a job missed while the agent was down once at start (default true)
      stream_backoff_max: 'string', // longest wait before restarting a failed `wal stream` (default 60s)
      job_timeout: 'string', // a job still running after this is interrupted and fails (default 24h)
    },
  },
  log: {
    fields: {
      level: 'string',
    },
  },
  monitor: { fields: MONITOR_FIELDS }, // health checks, status, metrics (config/monitor.ts)
  dashboard: { fields: DASHBOARD_FIELDS }, // the read-only web dashboard (config/dashboard.ts)
  notify: { fields: NOTIFY_FIELDS }, // webhooks and e-mail on a check's state change (config/monitor.ts)
  drill: { fields: DRILL_FIELDS }, // pgkeep drill's defaults and the monitor's RTO limit (config/drill.ts)
};

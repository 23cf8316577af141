/** The keys of [monitor] and [notify] (their meaning: config/monitor.ts and docs/monitoring.md). */
import type { FieldType } from './schema.js';

export const MONITOR_FIELDS: Record<string, FieldType> = {
  interval: 'string', // e.g. "60s": how often the agent runs the checks of each cluster
  archive_max_age: 'string', // WAL waits and nothing was archived for longer: archive stalled
  archive_backlog_warn: 'integer', // segments waiting to be archived: WARN from this many
  archive_backlog_critical: 'integer', // ... CRITICAL from this many
  wal_free_warn: 'integer', // percent free on pg_wal's file system: WARN below
  wal_free_critical: 'integer', // ... CRITICAL below
  slot_lag_warn: 'string', // WAL an inactive slot holds, e.g. "1GB": WARN from
  slot_lag_critical: 'string', // ... CRITICAL from
  backup_max_age: 'string', // newest good physical backup older: WARN (twice as old: CRITICAL)
  state_file: 'string', // the agent's state file (jobs and streams), read by status and metrics
  metrics_port: 'integer', // pgkeep agent serves GET /metrics on this port (absent or 0: no endpoint)
  metrics_host: 'string', // ... on this address (default 127.0.0.1)
};

export const NOTIFY_FIELDS: Record<string, FieldType> = {
  webhook: 'string', // generic JSON POST; several URLs separated by spaces or commas
  slack_webhook: 'string', // Slack-compatible {"text": ...} POST; several URLs likewise
  smtp_host: 'string',
  smtp_port: 'integer',
  smtp_user: 'string',
  smtp_password_env: 'string', // the environment variable holding the SMTP password
  smtp_tls: 'string', // "starttls" (default: upgrade when offered), "tls" (implicit, port 465), "none"
  from: 'string',
  to: 'string', // recipients separated by spaces or commas
  retries: 'integer', // attempts after the first one (default 3)
  timeout: 'string', // bound of one attempt (default "10s")
};

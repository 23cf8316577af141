/**
 * [monitor] and [notify]: thresholds of the health checks and where alerts go. Every value has a
 * default, so a config file with neither section still monitors (and notifies nobody).
 */
import { PgkeepError } from '../errors.js';
import { parseDuration } from './duration.js';

export interface MonitorSettings {
  intervalMs: number;
  archiveMaxAgeMs: number;
  archiveBacklogWarn: number;
  archiveBacklogCritical: number;
  /** Percent free on pg_wal's file system. */
  walFreeWarn: number;
  walFreeCritical: number;
  /** Bytes of WAL an inactive replication slot holds. */
  slotLagWarn: number;
  slotLagCritical: number;
  backupMaxAgeMs: number;
  /** The agent's state file; absent = none known (status works without an agent). */
  stateFile?: string;
  /** `pgkeep agent` serves Prometheus metrics here (absent: no endpoint). */
  metrics?: { port: number; host: string };
}

export interface NotifySettings {
  webhooks: string[];
  slackWebhooks: string[];
  smtp?: {
    host: string;
    port: number;
    user?: string;
    /** Read from this environment variable when sending, never stored in the config. */
    passwordEnv?: string;
    tls: 'starttls' | 'tls' | 'none';
    from: string;
    to: string[];
  };
  retries: number;
  timeoutMs: number;
}

type Table = Record<string, unknown>;

const SIZE_UNITS: Record<string, number> = { '': 1, B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

/** "1GB", "512MB", "100kB" (powers of 1024, as PostgreSQL's settings) in bytes. */
export function parseSize(spec: string, from: string): number {
  const m = /^(\d+)\s*(B|kB|KB|MB|GB|TB|)$/i.exec(spec.trim());
  if (!m)
    throw new PgkeepError('CONFIG', `invalid size "${spec}" (from ${from})`, { hint: 'use a whole number with a unit: 512MB, 1GB, 2TB' });
  return Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!;
}

function percent(v: unknown, key: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (n < 0 || n > 100) throw new PgkeepError('CONFIG', `${key} must be a percentage between 0 and 100, got ${n}`);
  return n;
}

function count(v: unknown, key: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (n < 1) throw new PgkeepError('CONFIG', `${key} must be 1 or more, got ${n}`);
  return n;
}

const list = (v: unknown): string[] => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : []);

export function monitorSettings(t: Table = {}, file = 'the config file'): MonitorSettings {
  const key = (k: string) => `monitor.${k} in ${file}`;
  const dur = (k: string, d: string) => parseDuration((t[k] as string | undefined) ?? d, key(k));
  const settings: MonitorSettings = {
    intervalMs: dur('interval', '60s'),
    archiveMaxAgeMs: dur('archive_max_age', '15m'),
    archiveBacklogWarn: count(t.archive_backlog_warn, key('archive_backlog_warn'), 16),
    archiveBacklogCritical: count(t.archive_backlog_critical, key('archive_backlog_critical'), 128),
    walFreeWarn: percent(t.wal_free_warn, key('wal_free_warn'), 20),
    walFreeCritical: percent(t.wal_free_critical, key('wal_free_critical'), 10),
    slotLagWarn: parseSize((t.slot_lag_warn as string | undefined) ?? '1GB', key('slot_lag_warn')),
    slotLagCritical: parseSize((t.slot_lag_critical as string | undefined) ?? '10GB', key('slot_lag_critical')),
    backupMaxAgeMs: dur('backup_max_age', '26h'),
    ...(t.state_file ? { stateFile: t.state_file as string } : {}),
    ...(t.metrics_port ? { metrics: { port: t.metrics_port as number, host: (t.metrics_host as string | undefined) || '127.0.0.1' } } : {}),
  };
  if (settings.metrics && (settings.metrics.port < 1 || settings.metrics.port > 65535)) {
    throw new PgkeepError('CONFIG', `${key('metrics_port')} must be a TCP port (1-65535), got ${settings.metrics.port}`);
  }
  if (
    settings.archiveBacklogCritical < settings.archiveBacklogWarn ||
    settings.walFreeCritical > settings.walFreeWarn ||
    settings.slotLagCritical < settings.slotLagWarn
  ) {
    throw new PgkeepError('CONFIG', `a CRITICAL threshold of [monitor] in ${file} is milder than its WARN one`, {
      hint: 'archive_backlog_critical >= archive_backlog_warn, wal_free_critical <= wal_free_warn, slot_lag_critical >= slot_lag_warn',
    });
  }
  return settings;
}

export function notifySettings(t: Table = {}, file = 'the config file'): NotifySettings {
  const tls = (t.smtp_tls as string | undefined) ?? 'starttls';
  if (!['starttls', 'tls', 'none'].includes(tls)) {
    throw new PgkeepError('CONFIG', `notify.smtp_tls in ${file} must be "starttls", "tls" or "none", not "${tls}"`);
  }
  const to = list(t.to);
  if (t.smtp_host && (!t.from || to.length === 0)) {
    throw new PgkeepError('CONFIG', `notify.smtp_host is set in ${file} but notify.from or notify.to is missing`, {
      hint: 'add from = "pgkeep@host.example" and to = "dba@example.com" to [notify]',
    });
  }
  return {
    webhooks: list(t.webhook),
    slackWebhooks: list(t.slack_webhook),
    ...(t.smtp_host
      ? {
          smtp: {
            host: t.smtp_host as string,
            port: (t.smtp_port as number | undefined) ?? (tls === 'tls' ? 465 : 25),
            ...(t.smtp_user ? { user: t.smtp_user as string } : {}),
            ...(t.smtp_password_env ? { passwordEnv: t.smtp_password_env as string } : {}),
            tls: tls as 'starttls' | 'tls' | 'none',
            from: t.from as string,
            to,
          },
        }
      : {}),
    retries: t.retries === undefined ? 3 : Math.max(0, Number(t.retries)),
    timeoutMs: parseDuration((t.timeout as string | undefined) ?? '10s', `notify.timeout in ${file}`),
  };
}

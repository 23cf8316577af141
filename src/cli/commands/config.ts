/**
 * `pgkeep config show`: the configuration pgkeep resolved from flags, environment and the config
 * file, and which file it read. Passwords and passphrases are never shown, only where they come
 * from.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatDuration, type PgkeepConfig } from '../../config/index.js';
import { redactConnInfo } from '../../config/conninfo.js';
import { redact as webhookOrigin } from '../../monitor/notify/event.js';
import { describeConnection, resolveConnection } from '../../pg/connect.js';

export interface ConfigReport {
  /** The config file that was read, or null when none was found. */
  file: string | null;
  cluster: string;
  /** Clusters named in the config file. */
  clustersInFile: string[];
  connection: {
    /** The connection setting with passwords replaced by ********. */
    setting: string | null;
    /** What libpq rules resolve it to (with PG* variables and defaults). */
    resolved: string;
    /** Where the password comes from, never the password itself. */
    password: string;
    warnings: string[];
  };
  pgdata: string | null;
  pgBin: string | null;
  repo: Omit<PgkeepConfig['repo'], 'signal'>;
  backup: PgkeepConfig['backup'];
  retention: PgkeepConfig['retention'];
  monitor: PgkeepConfig['monitor'];
  /** Webhook URLs by their origin only (a Slack URL's path is its secret); the SMTP password never. */
  notify: PgkeepConfig['notify'];
  logLevel: string;
  passphrase: string;
}

export function configReport(config: PgkeepConfig, env: NodeJS.ProcessEnv = process.env): ConfigReport {
  const p = resolveConnection(config.cluster, { env });
  const { signal: _signal, ...repo } = config.repo;
  return {
    file: config.file ?? null,
    cluster: config.clusterName,
    clustersInFile: Object.keys(config.clusters),
    connection: {
      setting: config.cluster.connection ? redactConnInfo(config.cluster.connection) : null,
      resolved: describeConnection(p),
      password: p.passwordSource ? `from ${p.passwordSource}` : 'none',
      warnings: p.warnings,
    },
    pgdata: config.cluster.pgdata ?? null,
    pgBin: config.cluster.pgBin ?? null,
    repo,
    backup: config.backup,
    retention: config.retention,
    monitor: config.monitor,
    notify: {
      ...config.notify,
      webhooks: config.notify.webhooks.map(webhookOrigin),
      slackWebhooks: config.notify.slackWebhooks.map(webhookOrigin),
    },
    logLevel: config.logLevel,
    passphrase: config.passphrase.fromEnv
      ? 'from PGKEEP_PASSPHRASE'
      : config.passphrase.file
        ? `from file ${config.passphrase.file}`
        : 'none',
  };
}

export function renderConfigReport(r: ConfigReport): string {
  const rows: [string, unknown][] = [
    ['config file', r.file ?? '(none found)'],
    ['cluster', r.cluster + (r.clustersInFile.length ? `  (in the file: ${r.clustersInFile.join(', ')})` : '')],
    ['connection', r.connection.setting ?? '(not set: PG* environment variables and defaults)'],
    ['  resolves to', r.connection.resolved],
    ['  password', r.connection.password],
    ['pgdata', r.pgdata],
    ['pg_bin', r.pgBin],
    ['repo.path', r.repo.path],
    ['repo.compression', r.repo.compression],
    ['repo.chunk_size', r.repo.chunkSize],
    ['repo.s3_endpoint', r.repo.s3Endpoint],
    ['repo.s3_region', r.repo.s3Region],
    ['repo.s3_path_style', r.repo.s3PathStyle],
    ['repo.s3_timeout', r.repo.s3TimeoutMs === undefined ? undefined : formatDuration(r.repo.s3TimeoutMs)],
    ['backup.archive_timeout', r.backup.archiveTimeoutMs === undefined ? undefined : formatDuration(r.backup.archiveTimeoutMs)],
    ['passphrase', r.passphrase],
    ['retention.keep_last', r.retention.keepLast],
    ['retention.keep_days', r.retention.keepDays],
    ['monitor.interval', formatDuration(r.monitor.intervalMs)],
    ['monitor.state_file', r.monitor.stateFile],
    [
      'notify',
      [
        ...r.notify.webhooks.map((u) => `webhook ${u}`),
        ...r.notify.slackWebhooks.map((u) => `slack ${u}`),
        ...(r.notify.smtp ? [`e-mail via ${r.notify.smtp.host}:${r.notify.smtp.port} to ${r.notify.smtp.to.join(', ')}`] : []),
      ].join('; ') || '(nobody)',
    ],
    ['log level', r.logLevel],
  ];
  const shown = rows.filter(([, v]) => v !== undefined && v !== null);
  const width = Math.max(...shown.map(([k]) => k.length));
  const lines = shown.map(([k, v]) => `${k.padEnd(width)}  ${String(v)}`);
  for (const w of r.connection.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export function register(program: Command, runner: Runner): void {
  const config = program
    .command('config')
    .description('show the configuration pgkeep resolves from flags, environment and pgkeep.toml')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep config show                       settings in effect and the file they came from
  pgkeep --cluster prod config show --json`,
    );
  config
    .command('show')
    .description('print the resolved configuration (passwords and passphrases are never shown, only their source)')
    .addHelpText(
      'after',
      `
Settings come from flags first, then environment variables (PGKEEP_*, PG*), then the config file.

Examples:
  pgkeep config show
  PGKEEP_REPO=/backups pgkeep --json config show`,
    )
    .action(
      runner.action(async (ctx) => {
        ctx.out.result(configReport(ctx.config), renderConfigReport);
      }),
    );
}

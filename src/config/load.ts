/**
 * Finds, reads and validates pgkeep.toml, then merges it with the environment and the flags:
 * flags win, then environment variables, then the file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { PgkeepError } from '../errors.js';
import { withArticle } from '../words.js';
import { CLUSTER_NAME_RULE, checkClusterName, isClusterName } from '../repo/manifest.js';
import { LOG_LEVELS, type LogLevel } from './log-level.js';
import { type CheckpointMode, parseCheckpointMode } from './checkpoint-mode.js';
import { CONFIG_SCHEMA, type FieldType } from './schema.js';
import { parseDuration } from './duration.js';
import { monitorSettings, notifySettings } from './monitor.js';
import { dashboardSettings } from './dashboard.js';
import type { AgentSettings, ClusterSettings, GlobalFlags, PgkeepConfig, ScheduleSettings } from './types.js';
import { refuseEmptyConfigPaths, refuseEmptyFilePaths } from './paths.js';
import { archiveSettings } from './archive.js';
import { drillSettings } from './drill.js';

/**
 * The places searched, in order, when neither --config nor PGKEEP_CONFIG names a file. The
 * system directory is /etc/pgkeep unless PGKEEP_SYSCONFDIR names another (as libpq's PGSYSCONFDIR).
 */
export function defaultConfigPaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  const sysconf = env.PGKEEP_SYSCONFDIR || '/etc/pgkeep';
  return [resolve('pgkeep.toml'), join(home, '.config', 'pgkeep', 'pgkeep.toml'), join(sysconf, 'pgkeep.toml')];
}

/** Locate the config file: --config, then $PGKEEP_CONFIG (both must exist), then the defaults. */
export function findConfigFile(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = flags.config ?? env.PGKEEP_CONFIG;
  if (explicit) {
    const from = flags.config ? '--config' : 'PGKEEP_CONFIG';
    if (!existsSync(explicit)) {
      throw new PgkeepError('CONFIG', `config file ${explicit} (from ${from}) does not exist`, {
        hint: `create it or point ${from} at an existing pgkeep.toml`,
      });
    }
    return resolve(explicit);
  }
  return defaultConfigPaths(env).find((p) => existsSync(p));
}

type Table = Record<string, unknown>;

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (typeof v === 'number' && Number.isInteger(v)) return 'integer';
  if (typeof v === 'bigint') return 'integer';
  return typeof v === 'object' && v !== null ? 'table' : typeof v;
}

function checkFields(file: string, prefix: string, table: Table, fields: Record<string, FieldType>): void {
  for (const [key, value] of Object.entries(table)) {
    const name = `${prefix}.${key}`;
    const want = fields[key];
    if (!want) {
      throw new PgkeepError('CONFIG', `unknown key "${name}" in ${file}`, {
        hint: `known keys in [${prefix}]: ${Object.keys(fields).join(', ')}`,
        details: { file, key: name },
      });
    }
    const got = typeOf(value);
    if (got !== want) {
      throw new PgkeepError('CONFIG', `key "${name}" in ${file} must be ${withArticle(want)}, not ${withArticle(got)}`, {
        details: { file, key: name, expected: want, actual: got },
      });
    }
  }
}

/** Split a named table into its known sub-tables (e.g. `schedule`) and its own keys. */
function withoutSubTables(t: Table, known: Record<string, unknown> | undefined): { tables: Record<string, Table>; fields: Table } {
  const tables: Record<string, Table> = {};
  const fields: Table = {};
  for (const [k, v] of Object.entries(t)) {
    if (known?.[k] && typeOf(v) === 'table') tables[k] = v as Table;
    else fields[k] = v;
  }
  return { tables, fields };
}

/** Parse and validate a config file's text; errors name the file and the key. */
export function parseConfigText(text: string, file: string): Table {
  let doc: Table;
  try {
    doc = parseToml(text) as Table;
  } catch (e) {
    throw new PgkeepError('CONFIG', `${file} is not valid TOML: ${(e as Error).message.split('\n')[0]}`, {
      details: { file },
    });
  }
  for (const [section, value] of Object.entries(doc)) {
    const spec = CONFIG_SCHEMA[section];
    if (!spec) {
      throw new PgkeepError('CONFIG', `unknown section [${section}] in ${file}`, {
        hint: `known sections: ${Object.keys(CONFIG_SCHEMA)
          .map((s) => `[${s}]`)
          .join(', ')}`,
        details: { file, key: section },
      });
    }
    if (typeOf(value) !== 'table') {
      throw new PgkeepError('CONFIG', `"${section}" in ${file} must be a table ([${section}])`, { details: { file, key: section } });
    }
    if (spec.named) {
      for (const [name, sub] of Object.entries(value as Table)) {
        if (section === 'cluster' && !isClusterName(name)) {
          throw new PgkeepError('CONFIG', `invalid cluster name "${name}" in [cluster."${name}"] of ${file}`, {
            hint: `${CLUSTER_NAME_RULE}; rename the section`,
            details: { file, key: `${section}.${name}` },
          });
        }
        if (typeOf(sub) !== 'table') {
          throw new PgkeepError('CONFIG', `"${section}.${name}" in ${file} must be a table ([${section}.${name}])`, {
            details: { file, key: `${section}.${name}` },
          });
        }
        const { tables, fields } = withoutSubTables(sub as Table, spec.tables);
        checkFields(file, `${section}.${name}`, fields, spec.fields);
        for (const [key, t] of Object.entries(tables)) checkFields(file, `${section}.${name}.${key}`, t, spec.tables![key]!);
      }
    } else {
      checkFields(file, section, value as Table, spec.fields);
    }
  }
  return doc;
}

function readConfigFile(file: string): Table {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PgkeepError('CONFIG', `cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      details: { file },
    });
  }
  return parseConfigText(text, file);
}

function clusterFromToml(t: Table | undefined): ClusterSettings {
  if (!t) return {};
  return {
    connection: t.connection as string | undefined,
    pgdata: t.pgdata as string | undefined,
    pgBin: t.pg_bin as string | undefined,
    ...(t.schedule ? { schedule: t.schedule as ScheduleSettings } : {}),
  };
}

function parseLogLevel(value: string, from: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  const kind = from === '--log-level' ? 'USAGE' : 'CONFIG';
  throw new PgkeepError(kind, `invalid log level "${value}" (from ${from})`, { hint: `use one of: ${LOG_LEVELS.join(', ')}` });
}

function positiveInt(value: string, from: string): number {
  if (!/^\d+$/.test(value)) throw new PgkeepError('CONFIG', `${from} must be a whole number, got "${value}"`);
  return Number(value);
}

function restorePrefetch(value: unknown, file: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = value as number;
  if (n < 0 || n > 1000) throw new PgkeepError('CONFIG', `restore.prefetch in ${file} must be from 0 (off) to 1000 segments, got ${n}`);
  return n;
}

function durationSetting(fromEnv: string | undefined, envName: string, fromFile: unknown, fileKey: string): number | undefined {
  if (fromEnv !== undefined) return parseDuration(fromEnv, envName);
  return fromFile === undefined ? undefined : parseDuration(fromFile as string, fileKey);
}

function checkpointSetting(fromFile: unknown, fileKey: string): { checkpoint?: CheckpointMode } {
  return fromFile === undefined ? {} : { checkpoint: parseCheckpointMode(fromFile, fileKey) };
}

/**
 * Resolve the configuration. Precedence: flags, then environment variables, then the file.
 * Environment variables: PGKEEP_CONFIG, PGKEEP_CLUSTER, PGKEEP_REPO, PGKEEP_PGDATA,
 * PGKEEP_CONNECTION, PGKEEP_COMPRESSION, PGKEEP_LOG_LEVEL, PGKEEP_PASSPHRASE,
 * PGKEEP_PASSPHRASE_FILE, PGKEEP_S3_ENDPOINT, PGKEEP_S3_REGION, PGKEEP_S3_TIMEOUT, PGKEEP_ARCHIVE_TIMEOUT,
 * PGKEEP_ARCHIVE_ASYNC,
 * PGKEEP_KEEP_LAST, PGKEEP_KEEP_DAYS.
 */
export function loadConfig(flags: GlobalFlags = {}, env: NodeJS.ProcessEnv = process.env): PgkeepConfig {
  refuseEmptyConfigPaths(flags, env);
  const file = findConfigFile(flags, env);
  const doc = file ? readConfigFile(file) : {};
  if (file) refuseEmptyFilePaths(doc, file);
  const repoT = (doc.repo ?? {}) as Table;
  const clustersT = (doc.cluster ?? {}) as Record<string, Table>;
  const retentionT = (doc.retention ?? {}) as Table;
  const logT = (doc.log ?? {}) as Table;

  const clusterName = flags.cluster ?? env.PGKEEP_CLUSTER ?? 'main';
  checkClusterName(clusterName);
  const clusters: Record<string, ClusterSettings> = {};
  for (const [name, t] of Object.entries(clustersT)) clusters[name] = clusterFromToml(t);
  const fromFile = clusters[clusterName] ?? {};

  const cluster: ClusterSettings = {
    connection: flags.connection ?? env.PGKEEP_CONNECTION ?? fromFile.connection,
    pgdata: flags.pgdata ?? env.PGKEEP_PGDATA ?? fromFile.pgdata,
    pgBin: env.PGKEEP_PG_BIN ?? fromFile.pgBin,
  };

  const logLevel =
    flags.logLevel !== undefined
      ? parseLogLevel(flags.logLevel, '--log-level')
      : env.PGKEEP_LOG_LEVEL !== undefined
        ? parseLogLevel(env.PGKEEP_LOG_LEVEL, 'PGKEEP_LOG_LEVEL')
        : logT.level !== undefined
          ? parseLogLevel(logT.level as string, `log.level in ${file}`)
          : 'info';

  return {
    file,
    clusterName,
    cluster,
    clusters,
    repo: {
      path: flags.repo ?? env.PGKEEP_REPO ?? (repoT.path as string | undefined),
      compression: env.PGKEEP_COMPRESSION ?? (repoT.compression as string | undefined),
      chunkSize: repoT.chunk_size as string | undefined,
      passphraseFile: flags.passphraseFile ?? env.PGKEEP_PASSPHRASE_FILE ?? (repoT.passphrase_file as string | undefined),
      s3Endpoint: env.PGKEEP_S3_ENDPOINT ?? (repoT.s3_endpoint as string | undefined),
      s3Region: env.PGKEEP_S3_REGION ?? (repoT.s3_region as string | undefined),
      s3PathStyle: repoT.s3_path_style as boolean | undefined,
      s3TimeoutMs: durationSetting(env.PGKEEP_S3_TIMEOUT, 'PGKEEP_S3_TIMEOUT', repoT.s3_timeout, `repo.s3_timeout in ${file}`),
    },
    backup: {
      archiveTimeoutMs: durationSetting(
        env.PGKEEP_ARCHIVE_TIMEOUT,
        'PGKEEP_ARCHIVE_TIMEOUT',
        (doc.backup as Table | undefined)?.archive_timeout,
        `backup.archive_timeout in ${file}`,
      ),
      ...checkpointSetting((doc.backup as Table | undefined)?.checkpoint, `backup.checkpoint in ${file}`),
    },
    archive: archiveSettings((doc.archive ?? {}) as Table, env, file),
    restore: { prefetch: restorePrefetch((doc.restore as Table | undefined)?.prefetch, file) },
    retention: {
      keepLast:
        env.PGKEEP_KEEP_LAST !== undefined
          ? positiveInt(env.PGKEEP_KEEP_LAST, 'PGKEEP_KEEP_LAST')
          : (retentionT.keep_last as number | undefined),
      keepDays:
        env.PGKEEP_KEEP_DAYS !== undefined
          ? positiveInt(env.PGKEEP_KEEP_DAYS, 'PGKEEP_KEEP_DAYS')
          : (retentionT.keep_days as number | undefined),
    },
    monitor: monitorSettings(doc.monitor as Table | undefined, file),
    notify: notifySettings(doc.notify as Table | undefined, file),
    drill: drillSettings(doc.drill as Table | undefined, file),
    dashboard: dashboardSettings(doc.dashboard as Table | undefined, env, file),
    agent: agentFromToml((doc.agent ?? {}) as Table, file),
    logLevel,
    json: flags.json ?? false,
    passphrase: {
      fromEnv: env.PGKEEP_PASSPHRASE !== undefined,
      file: flags.passphraseFile ?? env.PGKEEP_PASSPHRASE_FILE ?? (repoT.passphrase_file as string | undefined),
    },
  };
}

function agentFromToml(t: Table, file: string | undefined): AgentSettings {
  const ms = (key: string) => (t[key] === undefined ? undefined : parseDuration(t[key] as string, `agent.${key} in ${file}`));
  return {
    stateDir: t.state_dir as string | undefined,
    timezone: t.timezone as string | undefined,
    stopTimeoutMs: ms('stop_timeout'),
    catchUp: t.catch_up as boolean | undefined,
    streamBackoffMaxMs: ms('stream_backoff_max'),
    jobTimeoutMs: ms('job_timeout'),
  };
}

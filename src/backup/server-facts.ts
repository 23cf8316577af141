/**
 * Step "connect/identify" for the hot methods over SQL: who the server is (system identifier,
 * version, WAL segment size, data checksums, block and segment sizes), where its data directory
 * is, and its tablespaces. For `local` the configured pgdata must be that data directory.
 */
import { stat } from 'node:fs/promises';
import type pg from 'pg';
import { PgkeepError } from '../errors.js';
import { parseWalSegmentSizeSetting } from '../pg/lsn.js';
import type { ServerFacts } from './types.js';

export interface SqlServerFacts extends ServerFacts {
  major: number;
  /** data_directory, when this role may read it. */
  dataDirectory?: string;
  inRecovery: boolean;
  walLevel: string;
  archiveMode: string;
  /** Blocks per relation segment file (RELSEG_SIZE). */
  segmentBlocks: number;
}

/** Parse "1GB", "8kB", "16MB" or a byte count. */
export function parseSizeSetting(text: string): number {
  const m = /^\s*(\d+)\s*(B|kB|MB|GB|TB)?\s*$/.exec(text);
  if (!m) throw new PgkeepError('INTERNAL', `cannot read the size "${text}"`);
  return Number(m[1]) * { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 }[(m[2] ?? 'B') as 'B'];
}

export async function readSqlServerFacts(client: pg.Client): Promise<SqlServerFacts> {
  const { rows } = await client.query(`
    SELECT current_setting('server_version') AS version,
           current_setting('server_version_num')::int AS version_num,
           (SELECT setting FROM pg_settings WHERE name = 'data_directory') AS data_directory,
           current_setting('data_checksums') AS data_checksums,
           current_setting('wal_segment_size') AS wal_segment_size,
           current_setting('block_size')::int AS block_size,
           current_setting('segment_size') AS segment_size,
           current_setting('wal_level') AS wal_level,
           current_setting('archive_mode') AS archive_mode,
           pg_is_in_recovery() AS in_recovery`);
  const r = rows[0];
  let systemIdentifier: string;
  try {
    const s = await client.query('SELECT system_identifier::text AS id FROM pg_control_system()');
    systemIdentifier = s.rows[0].id;
  } catch (e) {
    throw new PgkeepError('SERVER_NOT_READY', `cannot read the system identifier: ${(e as Error).message}`, {
      hint: 'connect as a superuser or a role with EXECUTE on pg_control_system()',
      cause: e,
    });
  }
  const ts = await client.query(`
    SELECT oid::text AS oid, pg_tablespace_location(oid) AS location
      FROM pg_tablespace WHERE spcname NOT IN ('pg_default', 'pg_global') ORDER BY oid`);
  const versionNum = Number(r.version_num);
  const blockSize = Number(r.block_size);
  return {
    systemIdentifier,
    serverVersion: String(r.version).split(' ')[0]!,
    serverVersionNum: versionNum,
    major: Math.floor(versionNum / 10000),
    walSegmentSize: parseWalSegmentSizeSetting(r.wal_segment_size),
    dataChecksums: r.data_checksums === 'on',
    blockSize,
    segmentBlocks: parseSizeSetting(r.segment_size) / blockSize,
    ...(r.data_directory ? { dataDirectory: r.data_directory as string } : {}),
    inRecovery: Boolean(r.in_recovery),
    walLevel: r.wal_level,
    archiveMode: r.archive_mode,
    tablespaces: ts.rows.map((t) => ({ oid: t.oid as string, location: t.location as string })),
  };
}

/**
 * The data directory `local` reads: the configured pgdata, which must be the server's
 * data_directory (same directory, even through symlinks); without one, the server's own.
 */
export async function checkLocalDataDirectory(configured: string | undefined, facts: SqlServerFacts): Promise<string> {
  const server = facts.dataDirectory;
  if (!configured) {
    if (!server) {
      throw new PgkeepError('CONFIG', 'no data directory is configured for --method local', {
        hint: "set pgdata in [cluster.NAME] or use --pgdata (the server's SHOW data_directory), or use --method stream",
      });
    }
    await statOrExplain(server, "the server's data_directory");
    return server;
  }
  const mine = await statOrExplain(configured, 'the configured pgdata');
  if (!server) return configured; // the role may not read data_directory; trust the configuration
  let theirs;
  try {
    theirs = await stat(server);
  } catch {
    theirs = undefined;
  }
  if (!theirs || theirs.dev !== mine.dev || theirs.ino !== mine.ino) {
    throw new PgkeepError('CONFIG', `pgdata ${configured} is not the data directory of the server pgkeep connected to (${server})`, {
      hint: theirs
        ? `set pgdata to ${server}, or connect to the server that runs on ${configured}`
        : `the server's data directory ${server} is not on this host: run pgkeep on the database host, or use --method stream`,
      details: { configured, server },
    });
  }
  return configured;
}

async function statOrExplain(path: string, what: string) {
  try {
    const st = await stat(path);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    return st;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PgkeepError(code === 'EACCES' ? 'CONFIG' : 'NOT_FOUND', `${what} ${path} cannot be read (${code ?? (e as Error).message})`, {
      hint:
        code === 'EACCES'
          ? 'run pgkeep as the OS user that owns the data directory (usually postgres)'
          : '--method local reads the data directory directly: run pgkeep on the database host, or use --method stream',
      cause: e,
    });
  }
}

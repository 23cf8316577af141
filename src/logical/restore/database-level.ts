/**
 * The database's own entries in a dump: CREATE DATABASE and its owner (DATABASE); its settings,
 * connection limit and template flag with `ALTER ROLE ... IN DATABASE ... SET` (DATABASE
 * PROPERTIES); its comment, security labels and grants. pg_restore restores them only with
 * --create, which always runs the CREATE DATABASE too.
 *
 * A whole-cluster restore into a database that exists already (template1 and postgres always
 * do) restores the contents with pg_restore as usual, then these entries: pg_restore --create
 * writes their SQL to a file (nothing else is listed), and psql replays it on the server, where
 * the CREATE DATABASE fails as expected ("already exists") and the rest applies to the database
 * that is there.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { PgTool } from '../../pg/bin.js';
import { writeTocList, type TocEntry } from '../toc/index.js';
import { psqlArgs } from './pg-restore-args.js';
import { runRestoreTool, type ToolRestoreResult } from './run-restore.js';

/** Entries about the database itself (they have no schema). */
export function isDatabaseLevel(e: TocEntry): boolean {
  if (e.schema !== undefined) return false;
  if (e.type === 'DATABASE' || e.type === 'DATABASE PROPERTIES') return true;
  return ['COMMENT', 'ACL', 'SECURITY LABEL'].includes(e.type) && e.name.startsWith('DATABASE ');
}

/** The error psql reports for the CREATE DATABASE of a database that is there: expected. */
export function isExpectedCreateError(message: string): boolean {
  return /^database ".*" already exists$/.test(message);
}

export interface PropertiesInput {
  pgRestore: PgTool;
  psql: PgTool;
  entries: TocEntry[];
  /** A temp directory for the list and the SQL. */
  tmp: string;
  /** The archive on disk, or else a fresh stream of it for pg_restore's stdin. */
  archive?: string;
  input?: () => Readable;
  /** Database psql starts in (the SQL connects to the restored one itself). */
  connectDb: string;
  env: NodeJS.ProcessEnv;
  noOwner?: boolean;
  signal?: AbortSignal;
}

export interface PropertiesResult {
  extract: ToolRestoreResult;
  /** Absent when extracting failed. */
  apply?: ToolRestoreResult;
}

/** Restore the database-level entries into the existing database; undefined when the dump has none (older dumps). */
export async function restoreDatabaseProperties(i: PropertiesInput): Promise<PropertiesResult | undefined> {
  if (!i.entries.some((e) => e.type === 'DATABASE' && e.schema === undefined)) return undefined;
  const ids = i.entries.filter(isDatabaseLevel).map((e) => e.dumpId);
  const list = join(i.tmp, 'database-level.list');
  const sql = join(i.tmp, 'database-level.sql');
  writeFileSync(list, writeTocList(i.entries, ids, 'database-level entries'));
  const args = [
    '--create',
    '--schema-only',
    `--use-list=${list}`,
    `--file=${sql}`,
    ...(i.noOwner ? ['--no-owner'] : []),
    ...(i.archive ? [i.archive] : []),
  ];
  const extract = await runRestoreTool({
    tool: i.pgRestore,
    args,
    env: i.env,
    input: i.archive ? undefined : i.input?.(),
    signal: i.signal,
  });
  if (extract.exit.code !== 0) return { extract };
  const apply = await runRestoreTool({
    tool: i.psql,
    args: psqlArgs(i.connectDb, false),
    env: i.env,
    input: createReadStream(sql),
    signal: i.signal,
  });
  return { extract, apply };
}

/**
 * `pgkeep restore-dump`: a logical snapshot back into a server.
 *
 *   1. read the snapshot and its dump meta
 *   2. decide the target (--into, --create, --into-url) and check the options against the format
 *   3. find pg_restore / psql of the dump's major or newer
 *   4. --all: globals first (psql), then every database
 *   5. each database: select TOC entries (--table/--schema) into a -L list, then pg_restore
 *      reading the archive from the repository (stdin; a temp copy for --jobs and directory
 *      format), or psql for plain SQL
 *   6. report errors with the object they belong to; stop at the first one unless
 *      --continue-on-error
 */
import { withRepoLockWarnings } from '../../repo/with-lock.js';
import { resolveSnapshotRef } from '../../repo/snapshot-ref.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import type { ClusterSettings } from '../../config/types.js';
import type { Repository, Snapshot } from '../../repo/index.js';
import type pg from 'pg';
import { connectWith, resolveConnection, type ConnectionParams } from '../../pg/connect.js';
import { findPgTool, type PgTool } from '../../pg/tools.js';
import { libpqEnv, withDatabase } from '../tools/libpq-env.js';
import { stderrTail } from '../tools/run-tool.js';
import { dumpMetaOf, type DumpedDatabase, type DumpMeta } from '../meta.js';
import { parseQualifiedName, quoteIdent } from '../identifiers.js';
import { wrapServerError } from '../server-error.js';
import { knowsDependencies, selectTocEntries, writeTocList, type SkippedEntry, type TocEntry } from '../toc/index.js';
import { describeRestoreError, type RestoreErrorInfo } from './pg-restore-log.js';
import { pgRestoreArgs, psqlArgs } from './pg-restore-args.js';
import { isExpectedCreateError, restoreDatabaseProperties } from './database-level.js';
import { materialize, materializeFile, runRestoreTool, type ToolRestoreResult } from './run-restore.js';

export interface RestoreDumpOptions {
  repo: Repository;
  clusterName: string;
  /** The configured connection (the target unless --into-url). */
  cluster: ClusterSettings;
  /** Snapshot id or 'latest'. */
  id: string;
  /** Restore into this existing database. */
  into?: string;
  /** Create the dumped database (pg_restore --create). */
  create?: boolean;
  /** Target server (and database, if --into is not given) as a libpq URL/conninfo. */
  intoUrl?: string;
  /** Which database of an --all snapshot to restore (when not restoring all). */
  sourceDatabase?: string;
  tables?: string[];
  schemas?: string[];
  clean?: boolean;
  noOwner?: boolean;
  jobs?: number;
  all?: boolean;
  continueOnError?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
}

export interface RestoreProgress {
  part: string;
  step?: string;
  bytes?: number;
}

export interface RestoredError extends RestoreErrorInfo {
  /** "TABLE sales.orders" when the TOC entry is known. */
  object?: string;
  /** One line for a person. */
  text: string;
}

export interface RestoredPart {
  /** 'globals' or the dumped database's name. */
  name: string;
  /** Database restored into ('' for globals). */
  target: string;
  mode: 'into' | 'create' | 'psql';
  /** Entries chosen by --table/--schema (all when not selective). */
  entries?: number;
  /** Dependent entries left out (e.g. FK constraints to tables not restored). */
  skipped: string[];
  errors: RestoredError[];
  /** Errors that were expected and harmless (globals: "role ... already exists"). */
  ignored: string[];
  seconds: number;
}

export interface RestoreDumpResult {
  snapshotId: string;
  format: DumpMeta['format'];
  parts: RestoredPart[];
  errorCount: number;
  seconds: number;
  warnings: string[];
}

export function objectLabel(e: TocEntry): string {
  return `${e.type} ${e.schema !== undefined ? `${e.schema}.` : ''}${e.name}`;
}

function checkOptions(o: RestoreDumpOptions, meta: DumpMeta): void {
  const selective = (o.tables?.length ?? 0) + (o.schemas?.length ?? 0) > 0;
  if (o.into !== undefined && o.create) throw new PgkeepError('USAGE', '--into and --create exclude each other');
  if (o.all && (o.into !== undefined || o.create || selective || o.sourceDatabase)) {
    throw new PgkeepError('USAGE', '--all restores every database under its own name; it takes no --into, --create, --table, --schema or --source-database');
  }
  if (o.all && meta.scope === 'database') {
    throw new PgkeepError('USAGE', 'this snapshot holds one database, not a whole cluster; restore it without --all');
  }
  if (meta.scope === 'globals' && (o.into !== undefined || o.create || selective)) {
    throw new PgkeepError('USAGE', 'this snapshot holds only roles and tablespaces; restore it without --into, --create, --table or --schema');
  }
  if (!o.all && meta.scope !== 'globals' && o.into === undefined && !o.create && !o.intoUrl) {
    throw new PgkeepError('USAGE', 'say where to restore: --into DB (an existing database), --create (recreate the dumped database), or --into-url URL');
  }
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1)) throw new PgkeepError('USAGE', '--jobs must be a whole number >= 1');
  if (meta.format === 'plain') {
    const bad = selective ? '--table/--schema' : o.clean ? '--clean' : o.noOwner ? '--no-owner' : (o.jobs ?? 1) > 1 ? '--jobs' : undefined;
    if (bad) {
      throw new PgkeepError('UNSUPPORTED', `${bad} needs a custom or directory format dump; this one is plain SQL, which psql replays as it is`, {
        hint: 'take the dump with --format custom (the default) to restore selectively or in parallel',
      });
    }
  }
}

function pickDatabases(o: RestoreDumpOptions, meta: DumpMeta): DumpedDatabase[] {
  if (o.all) return meta.databases;
  if (meta.scope === 'globals') return [];
  if (o.sourceDatabase !== undefined) {
    const d = meta.databases.find((x) => x.name === o.sourceDatabase);
    if (!d) {
      throw new PgkeepError('NOT_FOUND', `the snapshot has no database "${o.sourceDatabase}"`, {
        hint: `it holds: ${meta.databases.map((x) => x.name).join(', ')}`,
      });
    }
    return [d];
  }
  if (meta.databases.length !== 1) {
    throw new PgkeepError('USAGE', `the snapshot holds ${meta.databases.length} databases (${meta.databases.map((x) => x.name).join(', ')})`, {
      hint: 'restore them all with --all, or choose one with --source-database NAME',
    });
  }
  return meta.databases;
}

async function existingDatabases(params: ConnectionParams, signal?: AbortSignal): Promise<Set<string>> {
  return onDatabase(params, maintenanceDb(params.database), signal, async (c) =>
    new Set((await c.query('select datname from pg_database')).rows.map((r) => String(r.datname))));
}

/** A restore --into goes into a database that exists: a missing one is NOT_FOUND, before pg_restore runs. */
async function requireDatabase(params: ConnectionParams, signal?: AbortSignal): Promise<void> {
  if ((await existingDatabases(params, signal)).has(params.database)) return;
  throw new PgkeepError('NOT_FOUND', `database ${params.database} does not exist on the target server`, {
    hint: `create it first (createdb ${params.database}), restore with --create to recreate the dumped database under its own name, or choose another --into`,
    details: { database: params.database },
  });
}

/** A database to connect to while creating (or dropping) `db`. */
function maintenanceDb(db: string): string {
  return db === 'postgres' ? 'template1' : 'postgres';
}

export async function loadDumpSnapshot(repo: Repository, clusterName: string, id: string): Promise<{ snapshot: Snapshot; meta: DumpMeta }> {
  const snapshot = await repo.readSnapshot(clusterName, await resolveSnapshotRef(repo, clusterName, id, 'logical'));
  const meta = snapshot.kind === 'logical' ? dumpMetaOf(snapshot.meta) : undefined;
  if (!meta) {
    throw new PgkeepError('USAGE', `snapshot ${snapshot.id} is a ${snapshot.kind} backup, not a dump`, {
      hint: 'restore physical backups with "pgkeep restore"; "pgkeep list" shows the kind of every snapshot',
    });
  }
  return { snapshot, meta };
}

export async function restoreDump(o: RestoreDumpOptions): Promise<RestoreDumpResult> {
  // A shared lock keeps `repo gc` from repacking the packs while they are read.
  return withRepoLockWarnings(o.repo, 'shared', 'restore-dump', o.clusterName, () => restoreDumpUnlocked(o));
}

async function restoreDumpUnlocked(o: RestoreDumpOptions): Promise<RestoreDumpResult> {
  const started = Date.now();
  const { snapshot, meta } = await loadDumpSnapshot(o.repo, o.clusterName, o.id);
  checkOptions(o, meta);
  const databases = pickDatabases(o, meta);
  const target: ClusterSettings = o.intoUrl ? { ...o.cluster, connection: o.intoUrl } : o.cluster;
  const params = resolveConnection(target, { database: o.into });
  const major = Math.floor(meta.serverVersionNum / 10000);
  const pgBin = o.cluster.pgBin;
  const pgRestore = meta.format === 'plain' ? undefined : await findPgTool('pg_restore', { minMajor: major, pgBin });
  const psql = meta.format === 'plain' || meta.globals ? await findPgTool('psql', { pgBin }) : undefined;
  const warnings: string[] = [];
  if (meta.globals?.noRolePasswords) warnings.push('the dump has no role passwords (taken with --no-role-passwords): set them after the restore');

  const parts: RestoredPart[] = [];
  const stopIfFailed = (p: RestoredPart) => {
    if (p.errors.length && !o.continueOnError) throw stoppedError(p, snapshot.id);
  };
  if (meta.globals && (o.all || meta.scope === 'globals')) {
    const p = await restoreGlobals(o, snapshot, meta, psql!, params);
    parts.push(p);
    stopIfFailed(p);
  }
  const existing = o.all ? await existingDatabases(params, o.signal) : undefined;
  if (!o.all && !o.create) await requireDatabase(params, o.signal);
  for (const db of databases) {
    o.signal?.throwIfAborted();
    const p = await restoreDatabase(o, snapshot, meta, db, { params, pgRestore, psql, existing });
    parts.push(p);
    if (o.all && p.mode === 'into' && db.toc && !db.toc.entries.some((e) => e.type === 'DATABASE')) {
      warnings.push(`database ${db.name}: only its contents were restored; its settings, owner, grants and comment are not in this dump (taken by an older pgkeep)`);
    }
    if (p.skipped.length) warnings.push(`database ${db.name}: left out ${p.skipped.length} entr${p.skipped.length === 1 ? 'y' : 'ies'} that need objects not restored: ${p.skipped.slice(0, 5).join('; ')}`);
    stopIfFailed(p);
  }
  return {
    snapshotId: snapshot.id,
    format: meta.format,
    parts,
    errorCount: parts.reduce((s, p) => s + p.errors.length, 0),
    seconds: (Date.now() - started) / 1000,
    warnings,
  };
}

async function onDatabase<T>(params: ConnectionParams, db: string, signal: AbortSignal | undefined, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = await connectWith(withDatabase(params, db), { signal });
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function createDatabase(params: ConnectionParams, name: string, signal?: AbortSignal): Promise<void> {
  await onDatabase(params, maintenanceDb(name), signal, async (c) => {
    try {
      await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (e) {
      throw wrapServerError(e, `creating database ${name}`);
    }
  });
}

async function ensureSchemas(params: ConnectionParams, db: string, schemas: string[], signal?: AbortSignal): Promise<void> {
  if (!schemas.length) return;
  await onDatabase(params, db, signal, async (c) => {
    for (const s of schemas) {
      try {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`);
      } catch (e) {
        throw wrapServerError(e, `creating schema ${s} in database ${db}`);
      }
    }
  });
}

function stoppedError(p: RestoredPart, id: string): PgkeepError {
  const first = p.errors[0]!;
  const where = p.name === 'globals' ? 'roles and tablespaces' : `database ${p.name}${p.target && p.target !== p.name ? ` (into ${p.target})` : ''}`;
  return new PgkeepError('CONFLICT', `restore of ${where} from snapshot ${id} stopped at the first error: ${first.text}`, {
    hint: /already exists/.test(first.message)
      ? 'restore into an empty database, add --clean to drop existing objects first, or --continue-on-error to go on past errors'
      : 'fix the cause, or use --continue-on-error to go on past errors and count them',
    details: { part: p.name, errors: p.errors.map(({ text, command, detail }) => ({ text, command, detail })) },
  });
}

function toRestoredErrors(r: ToolRestoreResult, toc: TocEntry[] | undefined): RestoredError[] {
  const byId = new Map((toc ?? []).map((e) => [e.dumpId, e]));
  return r.log.errors.map((e) => {
    const entry = e.dumpId !== undefined ? byId.get(e.dumpId) : undefined;
    const object = entry ? objectLabel(entry) : undefined;
    return { ...e, ...(object ? { object } : {}), text: describeRestoreError(e, object) };
  });
}

/**
 * A partition or inheritance child that needs a table not chosen (a second parent): restoring
 * without it would leave its rows out of the table asked for, so nothing is restored.
 */
function refuseStranded(stranded: SkippedEntry[], entries: TocEntry[], db: string): void {
  if (!stranded.length) return;
  const byId = new Map(entries.map((e) => [e.dumpId, e]));
  const names = (ids: number[]) => ids.map((d) => byId.get(d)).filter((e) => e !== undefined).map((e) => `${e.schema !== undefined ? `${e.schema}.` : ''}${e.name}`);
  const what = stranded.map((s) => `${objectLabel(s.entry)} (needs ${names(s.missing).join(', ')})`);
  throw new PgkeepError('UNSUPPORTED', `database ${db}: the tables asked for have partitions or inheritance children that cannot be restored without other tables: ${what.join('; ')}`, {
    hint: `add ${[...new Set(stranded.flatMap((s) => names(s.missing)))].map((n) => `--table ${n}`).join(' ')} to restore them too`,
  });
}

/** An exit failure the log did not explain (e.g. the tool could not start). */
function unexplained(r: ToolRestoreResult, name: string): RestoredError[] {
  if (r.exit.code === 0 || r.log.errors.length) return [];
  const tail = stderrTail(r.exit.stderr, 5) || `exit code ${r.exit.code ?? r.exit.signal}`;
  return [{ message: tail, detail: [], text: `${name}: ${tail}` }];
}

async function restoreGlobals(o: RestoreDumpOptions, snapshot: Snapshot, meta: DumpMeta, psql: PgTool, params: ConnectionParams): Promise<RestoredPart> {
  const started = Date.now();
  const db = o.intoUrl ? params.database : maintenanceDb('');
  o.onProgress?.({ part: 'globals', step: 'roles and tablespaces' });
  const r = await runRestoreTool({
    tool: psql, args: psqlArgs(db, false), env: libpqEnv(withDatabase(params, db)),
    input: o.repo.readFile(snapshot, meta.globals!.path, { signal: o.signal }), signal: o.signal,
  });
  const all = [...toRestoredErrors(r, undefined), ...unexplained(r, 'psql')];
  // Roles that exist already on the target (at least the one we connect as) are expected.
  const harmless = (e: RestoredError) => /^role ".*" already exists$/.test(e.message) || /^tablespace ".*" already exists$/.test(e.message);
  return {
    name: 'globals', target: '', mode: 'psql', skipped: [],
    errors: all.filter((e) => !harmless(e)), ignored: all.filter(harmless).map((e) => e.text),
    seconds: (Date.now() - started) / 1000,
  };
}

interface DbContext {
  params: ConnectionParams;
  pgRestore?: PgTool;
  psql?: PgTool;
  existing?: Set<string>;
}

async function restoreDatabase(o: RestoreDumpOptions, snapshot: Snapshot, meta: DumpMeta, db: DumpedDatabase, c: DbContext): Promise<RestoredPart> {
  const started = Date.now();
  // Where: --all puts each database under its own name (into it when it exists already).
  let mode: RestoredPart['mode'];
  let targetDb: string;
  if (o.all) {
    const exists = c.existing!.has(db.name);
    mode = exists && !o.clean ? 'into' : 'create';
    targetDb = db.name;
    if (meta.format === 'plain' && db.createsDatabase === false) {
      // template1 and postgres: dumped without CREATE DATABASE, replayed into the one there.
      if (!exists) await createDatabase(c.params, targetDb, o.signal);
      mode = 'into';
    } else if (meta.format === 'plain' && exists) {
      throw new PgkeepError('CONFLICT', `database ${db.name} exists on the target, and a plain-format dump can only create it`, {
        hint: 'drop it first, or restore from a custom-format dump',
      });
    }
  } else if (o.create) {
    mode = 'create';
    targetDb = db.name;
  } else {
    mode = 'into';
    targetDb = c.params.database;
  }
  const progress = (p: Omit<RestoreProgress, 'part'>) => o.onProgress?.({ part: db.name, ...p });
  const connectDb = () => (mode === 'create' ? maintenanceDb(targetDb) : targetDb);
  const env = () => libpqEnv(withDatabase(c.params, connectDb()));

  if (meta.format === 'plain') {
    if (mode === 'create' && !o.all) {
      // A single-database plain dump has no CREATE DATABASE.
      throw new PgkeepError('UNSUPPORTED', 'a plain-format dump of one database cannot --create it', {
        hint: 'create the database (createdb NAME) and restore with --into NAME',
      });
    }
    const r = await runRestoreTool({
      tool: c.psql!, args: psqlArgs(connectDb(), !o.continueOnError), env: env(),
      input: o.repo.readFile(snapshot, db.path, { signal: o.signal }), signal: o.signal,
      onBytes: (bytes) => progress({ bytes }),
    });
    return {
      name: db.name, target: targetDb, mode: 'psql', skipped: [], ignored: [],
      errors: [...toRestoredErrors(r, undefined), ...unexplained(r, 'psql')], seconds: (Date.now() - started) / 1000,
    };
  }

  // Selective restore: a -L list from the stored TOC.
  const tmp = mkdtempSync(join(tmpdir(), 'pgkeep-restore-'));
  try {
    let listFile: string | undefined;
    let entries: number | undefined;
    let skipped: string[] = [];
    if ((o.tables?.length ?? 0) + (o.schemas?.length ?? 0) > 0) {
      if (!db.toc || !knowsDependencies(db.toc.entries)) {
        const what = db.toc ? 'the dependencies of its table of contents' : 'a table of contents';
        throw new PgkeepError('UNSUPPORTED', `the snapshot lacks ${what} for database ${db.name} (${db.tocNote ?? 'not recorded'}), so it cannot be restored selectively`, {
          hint: 'restore the whole database (without --table/--schema) into a scratch database and copy what you need from there',
        });
      }
      const sel = selectTocEntries(db.toc.entries, {
        tables: (o.tables ?? []).map((t) => parseQualifiedName(t)),
        schemas: (o.schemas ?? []).map((s) => parseQualifiedName(s, 'schema name').name),
      });
      if (sel.unmatched.length) {
        throw new PgkeepError('NOT_FOUND', `not in the dump of database ${db.name}: ${sel.unmatched.join(', ')}`, {
          hint: `see what it holds with: pgkeep restore-dump ${snapshot.id} --list`,
        });
      }
      refuseStranded(sel.stranded, db.toc.entries, db.name);
      listFile = join(tmp, 'restore.list');
      writeFileSync(listFile, writeTocList(db.toc.entries, sel.ids, `pgkeep restore-dump ${snapshot.id}`));
      entries = sel.ids.length;
      skipped = sel.skipped.map((s) => objectLabel(s.entry));
      // A list restores no DATABASE entry, and a table's schema only when the schema is chosen:
      // create both when missing, so one table can go into a fresh database.
      if (mode === 'create') {
        await createDatabase(c.params, targetDb, o.signal);
        mode = 'into';
      }
      const chosen = new Set(sel.ids);
      const schemas = new Set(db.toc.entries.filter((e) => chosen.has(e.dumpId) && e.schema !== undefined).map((e) => e.schema!));
      for (const e of db.toc.entries) if (chosen.has(e.dumpId) && e.type === 'SCHEMA') schemas.delete(e.name);
      await ensureSchemas(c.params, targetDb, [...schemas], o.signal);
    }
    // pg_restore reads a custom archive from stdin, except in parallel; directories go to disk.
    let archive: string | undefined;
    let input;
    if (meta.format === 'directory') {
      archive = join(tmp, 'archive');
      progress({ step: 'fetching the archive from the repository' });
      await materialize(o.repo, snapshot, db.path, archive, o.signal);
    } else if ((o.jobs ?? 1) > 1) {
      archive = join(tmp, 'archive.dump');
      progress({ step: 'fetching the archive from the repository' });
      await materializeFile(o.repo, snapshot, db.path, archive, o.signal);
    } else {
      input = o.repo.readFile(snapshot, db.path, { signal: o.signal });
    }
    const r = await runRestoreTool({
      tool: c.pgRestore!,
      args: pgRestoreArgs({
        database: connectDb(), create: mode === 'create', clean: o.clean, noOwner: o.noOwner, jobs: o.jobs,
        continueOnError: o.continueOnError, listFile, archive,
      }),
      env: env(), input, signal: o.signal,
      onStep: (step) => progress({ step }),
      onBytes: (bytes) => progress({ bytes }),
    });
    const errors = [...toRestoredErrors(r, db.toc?.entries), ...unexplained(r, 'pg_restore')];
    const ignored: string[] = [];
    // --all into a database that exists (template1, postgres...): its settings, owner, grants and
    // comment too, not only its contents.
    if (o.all && mode === 'into' && db.toc && (!errors.length || o.continueOnError)) {
      progress({ step: 'database settings, owner, grants and comment' });
      const props = await restoreDatabaseProperties({
        pgRestore: c.pgRestore!, psql: c.psql!, entries: db.toc.entries, tmp, archive,
        input: () => o.repo.readFile(snapshot, db.path, { signal: o.signal }),
        connectDb: maintenanceDb(targetDb), env: env(), noOwner: o.noOwner, signal: o.signal,
      });
      const found = [
        ...(props ? [...toRestoredErrors(props.extract, undefined), ...unexplained(props.extract, 'pg_restore')] : []),
        ...(props?.apply ? [...toRestoredErrors(props.apply, undefined), ...unexplained(props.apply, 'psql')] : []),
      ];
      errors.push(...found.filter((e) => !isExpectedCreateError(e.message)));
      ignored.push(...found.filter((e) => isExpectedCreateError(e.message)).map((e) => e.text));
    }
    return {
      name: db.name, target: targetDb, mode, ...(entries !== undefined ? { entries } : {}), skipped, ignored,
      errors, seconds: (Date.now() - started) / 1000,
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

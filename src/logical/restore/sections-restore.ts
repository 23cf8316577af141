/**
 * One database restored with several jobs, section by section, as pg_restore's --section
 * splits an archive:
 *   1. pre-data (schemas, tables, functions, ...): one pg_restore. A custom archive streams from
 *      the repository, and what was read of it, its head with the table of contents, is kept in
 *      a temp file.
 *   2. data: the rows of the TABLE DATA entries are read from the custom archive itself
 *      (archive-rows.ts), or pg_restore writes them as a script (no server), and they are loaded
 *      through N sessions at once (parallel-copy.ts), a big table by all of them.
 *      The other data entries (sequence values, large objects) follow with pg_restore.
 *   3. post-data (indexes, constraints, triggers, grants, ...): pg_restore -j N. Those entries
 *      are all in the table of contents, so the kept head of the archive is enough: nothing
 *      is copied out of the repository to disk.
 * A directory archive is copied out first (pg_restore needs its files), and every step reads it there.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { PgkeepError } from '../../errors.js';
import { targetDiskError } from '../../disk-errors.js';
import { connectWith } from '../../pg/connect.js';
import type { TocEntry } from '../toc/index.js';
import { writeTocList } from '../toc/index.js';
import { libpqEnv, withDatabase } from '../tools/libpq-env.js';
import { archiveRows } from './archive-data-source.js';
import { type CopyStreamEvent, copyStreamEvents, ScriptCut, UnexpectedStatement } from './copy-stream.js';
import type { DbStep } from './database-step.js';
import { loadInParallel, type TableFailure } from './parallel-copy.js';
import { dataScriptArgs, pgRestoreArgs, type PgRestoreArgsOptions } from './pg-restore-args.js';
import { objectLabel, toRestoredErrors, unexplained } from './restored-errors.js';
import { fetchArchive } from './archive-source.js';
import { materialize, runRestoreTool, type ToolRestoreResult } from './run-restore.js';
import { describeServerFailure } from './table-failure.js';
import type { RestoredError } from './types.js';

/** Rows handed to a session at a time. */
const BATCH_BYTES = 1024 * 1024;

export interface SectionsResult {
  errors: RestoredError[];
  /** The archive on disk (head of a custom archive, or the directory) for later steps. */
  archive: string;
}

/** Whether this database can be restored in sections (else: one pg_restore -j N on a full copy). */
export function canRestoreInSections(s: DbStep): boolean {
  // --clean into an existing database must drop indexes and foreign keys (post-data) before the
  // tables they hang on: only one pg_restore run over all sections orders those drops.
  return !!s.db.toc && !(s.o.clean && s.target.mode === 'into');
}

export async function restoreInSections(
  s: DbStep,
  jobs: number,
  tmp: string,
  chosen: Set<number> | undefined,
  listFile?: string,
): Promise<SectionsResult> {
  const { o, db } = s;
  const entries = db.toc!.entries.filter((e) => !chosen || chosen.has(e.dumpId));
  const errors: RestoredError[] = [];
  const failed = () => errors.length > 0 && !o.continueOnError;
  const collect = (r: ToolRestoreResult) => errors.push(...toRestoredErrors(r, db.toc!.entries), ...unexplained(r, 'pg_restore'));

  let archive: string;
  const base: PgRestoreArgsOptions = { database: s.connectDb(), noOwner: o.noOwner, continueOnError: o.continueOnError, listFile };
  if (db.format === 'directory') {
    archive = join(tmp, 'archive');
    const dir = archive;
    await fetchArchive(s, tmp, () => materialize(o.repo, s.snapshot, db.path, dir, o.signal));
    collect(await tool(s, { ...base, create: s.target.mode === 'create', clean: o.clean, section: 'pre-data', archive }));
  } else {
    archive = join(tmp, 'archive-head.dump');
    collect(await preDataKeepingHead(s, { ...base, create: s.target.mode === 'create', clean: o.clean, section: 'pre-data' }, archive));
  }
  if (failed()) return { errors, archive };

  // From here on the database exists: every step connects to it.
  const into = { ...base, database: s.target.db };
  const tableData = entries.filter((e) => e.type === 'TABLE DATA');
  if (tableData.length) {
    errors.push(...(await loadTableData(s, jobs, tmp, tableData, archive)));
    if (failed()) return { errors, archive };
  }
  const otherIds = entries.filter((e) => e.type !== 'TABLE DATA').map((e) => e.dumpId);
  if (entries.some(isOtherData)) {
    const list = join(tmp, 'other-data.list');
    writeFileSync(list, writeTocList(db.toc!.entries, otherIds, 'data other than table rows'));
    // Sequence values are in the table of contents (the kept head); only large objects need the archive's data.
    const fromHead = db.format === 'directory' || !entries.some(isLargeObjects);
    collect(await tool(s, { ...into, section: 'data', listFile: list, archive: fromHead ? archive : undefined }));
    if (failed()) return { errors, archive };
  }
  collect(await tool(s, { ...into, section: 'post-data', jobs, archive }));
  return { errors, archive };
}

/** Data-section entries besides table rows: sequence values, large objects. */
function isOtherData(e: TocEntry): boolean {
  return e.type === 'SEQUENCE SET' || isLargeObjects(e);
}

/** Entries whose data is in the archive's data blocks (not in its table of contents). */
function isLargeObjects(e: TocEntry): boolean {
  return e.type === 'BLOBS' || e.type === 'LARGE OBJECTS';
}

function env(s: DbStep, database: string): NodeJS.ProcessEnv {
  return libpqEnv(withDatabase(s.c.params, database));
}

async function tool(s: DbStep, a: PgRestoreArgsOptions): Promise<ToolRestoreResult> {
  const stdin = a.archive === undefined;
  return runRestoreTool({
    tool: s.c.pgRestore!,
    args: pgRestoreArgs(a),
    env: env(s, a.database),
    input: stdin ? s.o.repo.readFile(s.snapshot, s.db.path, { signal: s.o.signal }) : undefined,
    signal: s.o.signal,
    onStep: (step) => s.progress({ step }),
  });
}

/** Step 1 of a custom archive: pg_restore reads it from the repository; what it was fed goes to `head` too. */
async function preDataKeepingHead(s: DbStep, a: PgRestoreArgsOptions, head: string): Promise<ToolRestoreResult> {
  const input = s.o.repo.readFile(s.snapshot, s.db.path, { signal: s.o.signal });
  const fd = openSync(head, 'w', 0o600);
  let written = 0;
  let diskError: unknown;
  input.on('data', (b: Buffer) => {
    try {
      writeSync(fd, b);
      written += b.length;
    } catch (e) {
      diskError ??= e;
      input.destroy(e as Error);
    }
  });
  try {
    const r = await runRestoreTool({
      tool: s.c.pgRestore!,
      args: pgRestoreArgs(a),
      env: env(s, a.database),
      input,
      signal: s.o.signal,
      onStep: (step) => s.progress({ step }),
    });
    if (diskError !== undefined) throw diskError;
    return r;
  } catch (e) {
    const disk = targetDiskError(e, { what: 'table of contents of the archive, kept for pg_restore -j', dir: head, done: written });
    if (disk)
      throw new PgkeepError(disk.code, disk.message, { hint: `${disk.hint}, or restore with --jobs 1`, details: disk.details, cause: e });
    throw e;
  } finally {
    closeSync(fd);
  }
}

/**
 * Step 2: the rows of the TABLE DATA entries, through `jobs` sessions: read from the custom
 * archive itself when pgkeep can (archive-data-source.ts), else from pg_restore's data script.
 */
async function loadTableData(s: DbStep, jobs: number, tmp: string, tableData: TocEntry[], archive: string): Promise<RestoredError[]> {
  const { o, db } = s;
  const sessions: pg.Client[] = [];
  try {
    for (let n = 0; n < jobs; n++) sessions.push(await connectWith(withDatabase(s.c.params, s.target.db), { signal: o.signal }));
    const ids = tableData.map((e) => e.dumpId);
    const direct = db.format === 'custom' ? await archiveRows(s, archive, tmp, ids, env(s, s.target.db), BATCH_BYTES) : undefined;
    if (direct && 'errors' in direct) return direct.errors;
    if (direct) {
      const { failures, cut } = await loadEvents(s, sessions, direct.events);
      return [...failures.map((f) => describeServerFailure(f, labelOf(f, tableData))), ...(cut ? [cut] : [])];
    }
    const list = join(tmp, 'table-data.list');
    writeFileSync(list, writeTocList(db.toc!.entries, ids, 'table rows'));
    let loaded: Loaded = { failures: [] };
    const r = await runRestoreTool({
      tool: s.c.pgRestore!,
      args: dataScriptArgs(list, db.format === 'directory' ? archive : undefined),
      env: env(s, s.target.db),
      input: db.format === 'directory' ? undefined : o.repo.readFile(s.snapshot, db.path, { signal: o.signal }),
      signal: o.signal,
      onStdout: async (out) => {
        loaded = await loadEvents(s, sessions, copyStreamEvents(out, BATCH_BYTES));
      },
    }).catch(unsupportedScript(s));
    const errors = loaded.failures.map((f) => describeServerFailure(f, labelOf(f, tableData)));
    if (loaded.cut) errors.push(loaded.cut);
    // Stopping at a failed table closes pg_restore's output early: its exit says nothing more.
    if (!errors.length || o.continueOnError) errors.push(...toRestoredErrors(r, db.toc!.entries), ...unexplained(r, 'pg_restore'));
    return errors;
  } finally {
    await Promise.all(sessions.map((c) => c.end().catch(() => {})));
  }
}

interface Loaded {
  failures: TableFailure[];
  /** The rows ended inside a table (pg_restore stopped writing, or the archive is short). */
  cut?: RestoredError;
}

/** The rows through the sessions; a script or archive that ends inside a table is told, not thrown. */
async function loadEvents(s: DbStep, sessions: pg.Client[], events: AsyncIterable<CopyStreamEvent>): Promise<Loaded> {
  try {
    const loaded = await loadInParallel({
      events,
      sessions,
      continueOnError: s.o.continueOnError,
      signal: s.o.signal,
      onTable: (t) => s.progress({ step: `loading the rows of ${t}` }),
      onBytes: (bytes) => s.progress({ bytes }),
    });
    return { failures: loaded.failures };
  } catch (e) {
    if (e instanceof UnexpectedStatement) throw unsupportedScript(s)(e);
    // pg_restore stopped writing mid-table: its exit and stderr say why.
    if (!(e instanceof ScriptCut)) throw e;
    return { failures: [], cut: { message: e.message, detail: [], text: `${e.message} (none of its rows were loaded)` } };
  }
}

function unsupportedScript(s: DbStep): (e: unknown) => never {
  return (e) => {
    if (!(e instanceof UnexpectedStatement)) throw e;
    throw new PgkeepError('UNSUPPORTED', `database ${s.db.name}: its rows cannot be split over several sessions (${e.message})`, {
      hint: 'restore it with --jobs 1 (one pg_restore, no split of the rows)',
    });
  };
}

/** The TOC entry of the failed table: the script has the tables in the order of the list. */
function labelOf(f: TableFailure, tableData: TocEntry[]): string {
  const e = tableData[f.index];
  return e && f.table.includes(e.name) ? objectLabel(e) : `TABLE DATA ${f.table}`;
}

/**
 * One database through pg_dump into the snapshot being written.
 * - custom / plain: pg_dump's stdout streams straight into the repository (one file); for a
 *   custom archive the same bytes also feed two pg_restore processes that read its table of
 *   contents from the head of the stream and exit.
 * - directory: pg_dump -Fd [-j N] into a temp directory, its TOC read there, then every file
 *   stored under databases/<name>/ and the temp directory removed.
 */
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { PgkeepError } from '../../errors.js';
import type { SnapshotWriter } from '../../repo/snapshot-writer.js';
import type { PgTool } from '../../pg/bin.js';
import type { ListParseHints } from '../toc/index.js';
import { databasePath, type DumpedDatabase, type DumpFormat } from '../meta.js';
import { runTool, toolFailed, type ToolExit } from '../tools/run-tool.js';
import { pgDumpArgs, type PgDumpArgsOptions } from './pg-dump-args.js';
import { captureTocFromStream, readTocOf, type TocResult } from './toc-capture.js';
import { fanOut } from './fan-out.js';

export interface DumpDatabaseInput {
  writer: SnapshotWriter;
  pgDump: PgTool;
  pgRestore: PgTool;
  /** libpq environment reaching this database. */
  env: NodeJS.ProcessEnv;
  database: string;
  format: DumpFormat;
  args: Omit<PgDumpArgsOptions, 'format' | 'outputDir'>;
  hints: ListParseHints;
  signal?: AbortSignal;
  /** Bytes pg_dump has produced so far for this database. */
  onBytes?: (bytes: number) => void;
  /** pg_dump's progress lines ("dumping contents of table ..."). */
  onStep?: (text: string) => void;
}

function stepOf(line: string): string | undefined {
  const m = /^pg_dump: (dumping contents of table .*|reading .*|saving .*)$/.exec(line);
  return m?.[1];
}

function failed(input: DumpDatabaseInput, exit: ToolExit): PgkeepError {
  const text = exit.stderr.join('\n');
  const hint = /no matching (tables|schemas) were found/.test(text)
    ? 'check the --table/--schema names (patterns as in pg_dump: schema.table, * and ? wildcards, "Quoted" names)'
    : /permission denied/.test(text)
      ? 'connect as a role that can read every dumped object (e.g. the owner, or a member of pg_read_all_data)'
      : undefined;
  const err = toolFailed(`dump of database ${input.database}`, 'pg_dump', exit, hint);
  if (/no matching (tables|schemas) were found/.test(text))
    return new PgkeepError('NOT_FOUND', err.message, { hint, details: err.details });
  return err;
}

async function streamed(input: DumpDatabaseInput): Promise<DumpedDatabase> {
  const path = databasePath(input.database, input.format);
  const run = runTool(input.pgDump.path, pgDumpArgs({ ...input.args, format: input.format }), {
    env: input.env,
    signal: input.signal,
    onStderrLine: (l) => {
      const s = stepOf(l);
      if (s) input.onStep?.(s);
    },
  });
  const toRepo = new PassThrough({ highWaterMark: 1024 * 1024 });
  const capture = input.format === 'custom' ? captureTocFromStream(input.pgRestore.path, input.hints, input.signal) : undefined;
  let bytes = 0;
  run.stdout!.on('data', (b: Buffer) => {
    bytes += b.length;
    input.onBytes?.(bytes);
  });
  fanOut(run.stdout!, toRepo, capture?.inputs ?? []);
  const stored = input.writer.addFile({ path, type: 'file', mode: 0o600, mtimeMs: Date.now() }, toRepo);
  // The repository failing must not leave pg_dump blocked on a full pipe.
  stored.catch(() => run.child.kill('SIGTERM'));
  const [rec, exit] = await Promise.allSettled([stored, run.exit]);
  const toc: TocResult = capture ? await capture.result : { note: 'plain format has no table of contents' };
  const ex = (exit as PromiseFulfilledResult<ToolExit>).value;
  if (ex.code !== 0) throw failed(input, ex);
  if (rec.status === 'rejected') {
    run.child.kill('SIGTERM');
    throw rec.reason;
  }
  return { name: input.database, format: input.format, path, files: 1, bytes, ...tocFields(toc) };
}

function tocFields(t: TocResult): Pick<DumpedDatabase, 'toc' | 'tocNote'> {
  return { ...(t.toc ? { toc: t.toc } : {}), ...(t.note ? { tocNote: t.note } : {}) };
}

async function directory(input: DumpDatabaseInput): Promise<DumpedDatabase> {
  const tmp = mkdtempSync(join(tmpdir(), 'pgkeep-dump-'));
  const out = join(tmp, 'archive');
  try {
    const run = runTool(input.pgDump.path, pgDumpArgs({ ...input.args, format: 'directory', outputDir: out }), {
      env: input.env,
      signal: input.signal,
      stdout: 'ignore',
      onStderrLine: (l) => {
        const s = stepOf(l);
        if (s) input.onStep?.(s);
      },
    });
    const exit = await run.exit;
    if (exit.code !== 0) throw failed(input, exit);
    const toc = await readTocOf(input.pgRestore.path, out, input.hints, input.signal);
    const prefix = databasePath(input.database, 'directory');
    let bytes = 0;
    const names = readdirSync(out).sort();
    for (const name of names) {
      input.signal?.throwIfAborted();
      const st = statSync(join(out, name));
      await input.writer.addFile(
        { path: `${prefix}/${name}`, type: 'file', mode: 0o600, mtimeMs: st.mtimeMs },
        createReadStream(join(out, name), { highWaterMark: 1024 * 1024 }),
      );
      bytes += st.size;
      input.onBytes?.(bytes);
    }
    return { name: input.database, format: 'directory', path: prefix, files: names.length, bytes, ...tocFields(toc) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function dumpDatabase(input: DumpDatabaseInput): Promise<DumpedDatabase> {
  return input.format === 'directory' ? directory(input) : streamed(input);
}

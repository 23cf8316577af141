/**
 * The table of contents of an archive as pg_dump writes it, read by pg_restore itself:
 * `pg_restore --create -l` (every entry) and `pg_restore --schema-only --verbose` (dependencies, exact
 * names). For a custom archive streaming out of pg_dump, both read the head of the same stream
 * (the TOC comes first) and exit; for a directory archive they read its toc.dat.
 */
import type { Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { mergeVerbose, parseTocList, parseVerboseToc, type ListParseHints, type Toc } from '../toc/index.js';
import { runTool, stderrTail, type ToolRun } from '../tools/run-tool.js';

export interface TocResult {
  toc?: Toc;
  /** Why there is no TOC (or what went wrong reading it). */
  note?: string;
}

export interface TocCapture {
  /** Where the archive bytes go (stdin of each pg_restore); empty when reading a directory. */
  inputs: Writable[];
  result: Promise<TocResult>;
}

/** Collect a tool's stdout, keeping only the lines `keep` accepts (bounded memory). */
function collect(run: ToolRun, keep: (line: string) => boolean): Promise<string> {
  return new Promise((res) => {
    const out: string[] = [];
    const rl = createInterface({ input: run.stdout!, crlfDelay: Infinity });
    rl.on('line', (l) => {
      if (keep(l)) out.push(l);
    });
    rl.once('close', () => res(out.join('\n')));
  });
}

function start(pgRestore: string, archive: string | undefined, hints: ListParseHints, signal?: AbortSignal): TocCapture {
  const env = { ...process.env, PGPASSFILE: '/dev/null' };
  const input = archive ? [archive] : [];
  const stdin = archive ? 'ignore' : 'pipe';
  // --create lists the database's own entries too (DATABASE, its properties, comment, grants).
  const list = runTool(pgRestore, ['--create', '-l', ...input], { env, stdin, signal });
  const verbose = runTool(pgRestore, ['--schema-only', '--verbose', '-f', '-', ...input], { env, stdin, signal });
  const listText = collect(list, () => true);
  const verboseText = collect(verbose, (l) => l.startsWith('-- '));
  const result = (async (): Promise<TocResult> => {
    const [lt, vt, le, ve] = await Promise.all([listText, verboseText, list.exit, verbose.exit]);
    if (le.code !== 0) return { note: `pg_restore -l failed: ${stderrTail(le.stderr, 3) || `exit code ${le.code}`}` };
    const toc = parseTocList(lt, hints);
    if (ve.code !== 0) {
      return { toc, note: `dependencies unknown (pg_restore --schema-only failed: ${stderrTail(ve.stderr, 3) || `exit code ${ve.code}`})` };
    }
    return { toc: mergeVerbose(toc, parseVerboseToc(vt)) };
  })();
  return { inputs: archive ? [] : [list.stdin!, verbose.stdin!], result };
}

/** Read the TOC from a stream: write the archive into `inputs` (they may close early). */
export function captureTocFromStream(pgRestore: string, hints: ListParseHints, signal?: AbortSignal): TocCapture {
  return start(pgRestore, undefined, hints, signal);
}

/** Read the TOC of an archive file or directory. */
export function readTocOf(pgRestore: string, archive: string, hints: ListParseHints, signal?: AbortSignal): Promise<TocResult> {
  return start(pgRestore, archive, hints, signal).result;
}

/**
 * Feeding one stored archive to pg_restore (custom, directory) or psql (plain SQL, globals),
 * reading the tool's stderr as it goes: progress lines, and errors tied to their TOC entries.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Repository, Snapshot } from '../../repo/index.js';
import type { PgTool } from '../../pg/bin.js';
import { runTool, type ToolExit } from '../tools/run-tool.js';
import { PgRestoreLog } from './pg-restore-log.js';

export interface ToolRestoreResult {
  exit: ToolExit;
  log: PgRestoreLog;
  /** Bytes fed from the repository (stdin restores). */
  bytes: number;
}

export interface ToolRestoreInput {
  tool: PgTool;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** What to feed on stdin (a stored file); absent when the tool reads an archive on disk. */
  input?: Readable;
  signal?: AbortSignal;
  onStep?: (text: string) => void;
  onBytes?: (bytes: number) => void;
  /** Reads the tool's stdout (discarded when absent); its failure stops the tool and is the error. */
  onStdout?: (out: Readable) => Promise<unknown>;
}

export async function runRestoreTool(i: ToolRestoreInput): Promise<ToolRestoreResult> {
  const log = new PgRestoreLog();
  const run = runTool(i.tool.path, i.args, {
    env: i.env,
    signal: i.signal,
    stdin: i.input ? 'pipe' : 'ignore',
    stdout: i.onStdout ? 'pipe' : 'ignore',
    keepLines: 400,
    onStderrLine: (line) => {
      const ev = log.push(line);
      if (ev?.kind === 'progress') i.onStep?.(ev.text);
    },
  });
  let bytes = 0;
  let feed: Promise<unknown> = Promise.resolve();
  if (i.input) {
    i.input.on('data', (b: Buffer) => {
      bytes += b.length;
      i.onBytes?.(bytes);
    });
    // The tool may stop reading early (exit on error): that is reported through its exit code.
    feed = pipeline(i.input, run.stdin!).catch((e) => {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE' || (e as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      run.child.kill('SIGTERM');
      throw e;
    });
  }
  const read = i.onStdout
    ? i.onStdout(run.stdout!).catch((e) => {
        run.child.kill('SIGTERM');
        throw e;
      })
    : undefined;
  const [exit] = await Promise.all([run.exit, feed, read]);
  return { exit, log, bytes };
}

/** Write the files of a stored directory archive (or one file) to `dir` for tools that need them on disk. */
export async function materialize(repo: Repository, snapshot: Snapshot, prefix: string, dir: string, signal?: AbortSignal): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for await (const f of snapshot.files()) {
    if (f.type !== 'file' || !f.path.startsWith(prefix + '/')) continue;
    const name = f.path.slice(prefix.length + 1);
    if (name.includes('/') || name === '..' || name === '.') continue;
    await pipeline(repo.readFile(snapshot, f, { signal }), createWriteStream(join(dir, name), { mode: 0o600 }));
  }
}

export async function materializeFile(
  repo: Repository,
  snapshot: Snapshot,
  path: string,
  file: string,
  signal?: AbortSignal,
): Promise<void> {
  await pipeline(repo.readFile(snapshot, path, { signal }), createWriteStream(file, { mode: 0o600 }));
}

/**
 * Where the data step of a restore in sections reads the rows: straight from a custom archive
 * (archive-rows.ts) when its head is one pgkeep can read, with the session settings pg_restore
 * would write before them (taken from pg_restore itself, run over the kept head with an empty
 * list: nothing but its settings), and when what pgkeep read agrees with pg_restore's own listing
 * of the archive (head-agrees.ts); undefined otherwise, and the rows come from pg_restore's data
 * script.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCustomArchiveHead } from '../toc/custom-archive-head.js';
import { headAgreesWithToc } from '../toc/head-agrees.js';
import { archiveRowEvents } from './archive-rows.js';
import { type CopyStreamEvent, copyStreamEvents } from './copy-stream.js';
import type { DbStep } from './database-step.js';
import { dataScriptArgs } from './pg-restore-args.js';
import { runRestoreTool } from './run-restore.js';
import { toRestoredErrors, unexplained } from './restored-errors.js';
import type { RestoredError } from './types.js';

export interface ArchiveRows {
  events: AsyncIterable<CopyStreamEvent>;
}

export async function archiveRows(
  s: DbStep,
  headFile: string,
  tmp: string,
  wanted: number[],
  env: NodeJS.ProcessEnv,
  batchBytes: number,
): Promise<ArchiveRows | { errors: RestoredError[] } | undefined> {
  const read = readCustomArchiveHead(readFileSync(headFile));
  if (!('head' in read)) return undefined;
  if (!s.db.toc || !headAgreesWithToc(read.head, s.db.toc.entries, wanted)) return undefined;
  const list = join(tmp, 'no-entries.list');
  writeFileSync(list, '; no entries: only the session settings\n');
  const settings: CopyStreamEvent[] = [];
  const r = await runRestoreTool({
    tool: s.c.pgRestore!,
    args: dataScriptArgs(list, headFile),
    env,
    signal: s.o.signal,
    onStdout: async (out) => {
      for await (const ev of copyStreamEvents(out, batchBytes)) settings.push(ev);
    },
  });
  const errors = [...toRestoredErrors(r, s.db.toc?.entries), ...unexplained(r, 'pg_restore')];
  if (errors.length) return { errors };
  let encoding = 'UTF8';
  for (const ev of settings) if (ev.kind === 'setting') encoding = /^SET client_encoding = '([^']*)';$/i.exec(ev.sql)?.[1] ?? encoding;
  const input = s.o.repo.readFile(s.snapshot, s.db.path, { signal: s.o.signal });
  const rows = archiveRowEvents(input, read.head, new Set(wanted), batchBytes, encoding);
  async function* events(): AsyncGenerator<CopyStreamEvent> {
    yield* settings;
    yield* rows;
  }
  return { events: events() };
}

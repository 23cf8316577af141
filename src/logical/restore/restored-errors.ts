/** The errors of a restore, named by the object they belong to. */

import { PgkeepError } from '../../errors.js';
import type { SkippedEntry, TocEntry } from '../toc/index.js';
import { stderrTail } from '../tools/run-tool.js';
import { describeRestoreError } from './pg-restore-log.js';
import type { ToolRestoreResult } from './run-restore.js';
import type { RestoredError, RestoredPart } from './types.js';

export function objectLabel(e: TocEntry): string {
  return `${e.type} ${e.schema !== undefined ? `${e.schema}.` : ''}${e.name}`;
}

export function stoppedError(p: RestoredPart, id: string): PgkeepError {
  const first = p.errors[0]!;
  const where =
    p.name === 'globals' ? 'roles and tablespaces' : `database ${p.name}${p.target && p.target !== p.name ? ` (into ${p.target})` : ''}`;
  return new PgkeepError('CONFLICT', `restore of ${where} from snapshot ${id} stopped at the first error: ${first.text}`, {
    hint: /already exists/.test(first.message)
      ? 'restore into an empty database, add --clean to drop existing objects first, or --continue-on-error to go on past errors'
      : 'fix the cause, or use --continue-on-error to go on past errors and count them',
    details: { part: p.name, errors: p.errors.map(({ text, command, detail }) => ({ text, command, detail })) },
  });
}

export function toRestoredErrors(r: ToolRestoreResult, toc: TocEntry[] | undefined): RestoredError[] {
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
export function refuseStranded(stranded: SkippedEntry[], entries: TocEntry[], db: string): void {
  if (!stranded.length) return;
  const byId = new Map(entries.map((e) => [e.dumpId, e]));
  const names = (ids: number[]) =>
    ids
      .map((d) => byId.get(d))
      .filter((e) => e !== undefined)
      .map((e) => `${e.schema !== undefined ? `${e.schema}.` : ''}${e.name}`);
  const what = stranded.map((s) => `${objectLabel(s.entry)} (needs ${names(s.missing).join(', ')})`);
  throw new PgkeepError(
    'UNSUPPORTED',
    `database ${db}: the tables asked for have partitions or inheritance children that cannot be restored without other tables: ${what.join('; ')}`,
    {
      hint: `add ${[...new Set(stranded.flatMap((s) => names(s.missing)))].map((n) => `--table ${n}`).join(' ')} to restore them too`,
    },
  );
}

/** An exit failure the log did not explain (e.g. the tool could not start). */
export function unexplained(r: ToolRestoreResult, name: string): RestoredError[] {
  if (r.exit.code === 0 || r.log.errors.length) return [];
  const tail = stderrTail(r.exit.stderr, 5) || `exit code ${r.exit.code ?? r.exit.signal}`;
  return [{ message: tail, detail: [], text: `${name}: ${tail}` }];
}

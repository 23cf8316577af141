/**
 * The checked reader of a drill record's JSON (format 1), field by field: a record that does not
 * have the shape is reported naming the first wrong field, never taken as it is.
 */
import { DRILL_PHASES, type DrillPhase, type DrillRecord } from './drill-records.js';

const field = (o: object, k: string): unknown => Object.getOwnPropertyDescriptor(o, k)?.value;

function objectOf(v: unknown, what: string): object {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what} is not an object`);
  return v;
}

function str(o: object, k: string, path: string): string {
  const v = field(o, k);
  if (typeof v !== 'string') throw new Error(`${path}${k} is not a string`);
  return v;
}

function num(o: object, k: string, path: string): number {
  const v = field(o, k);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${path}${k} is not a number of seconds`);
  return v;
}

function bool(o: object, k: string, path: string): boolean {
  const v = field(o, k);
  if (typeof v !== 'boolean') throw new Error(`${path}${k} is not true or false`);
  return v;
}

/** `read(k)` when the field is present, else undefined. */
const opt = <T>(o: object, k: string, read: (o: object, k: string, path: string) => T, path = ''): T | undefined =>
  field(o, k) === undefined ? undefined : read(o, k, path);

function time(o: object, k: string): string {
  const v = str(o, k, '');
  if (Number.isNaN(Date.parse(v))) throw new Error(`${k} is not a time ("${v.slice(0, 40)}")`);
  return v;
}

function list<T>(o: object, k: string, read: (item: object, path: string) => T): T[] {
  const v = field(o, k);
  if (!Array.isArray(v)) throw new Error(`${k} is not a list`);
  return v.map((item, i) => read(objectOf(item, `${k}[${i}]`), `${k}[${i}].`));
}

/** A drill record from its JSON, field by field; throws naming the first wrong field. */
export function parseDrillRecord(json: unknown): DrillRecord {
  const o = objectOf(json, 'the record');
  if (field(o, 'format') !== 1) throw new Error(`format is ${JSON.stringify(field(o, 'format'))}, this pgkeep reads format 1`);
  const t = objectOf(field(o, 'target'), 'target');
  const clean = <T extends object>(v: T): T => Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as T;
  return clean({
    format: 1 as const,
    id: str(o, 'id', ''),
    cluster: str(o, 'cluster', ''),
    startedAt: time(o, 'startedAt'),
    finishedAt: time(o, 'finishedAt'),
    ok: bool(o, 'ok', ''),
    failedPhase: opt(o, 'failedPhase', phase),
    error: opt(o, 'error', str),
    errorCode: opt(o, 'errorCode', str),
    hint: opt(o, 'hint', str),
    backupId: opt(o, 'backupId', str),
    target: clean({ kind: targetKind(t), time: opt(t, 'time', str, 'target.'), lsn: opt(t, 'lsn', str, 'target.') }),
    rtoSeconds: num(o, 'rtoSeconds', ''),
    rpoSeconds: opt(o, 'rpoSeconds', num),
    newestArchivedCommit: opt(o, 'newestArchivedCommit', str),
    recoveredCommit: opt(o, 'recoveredCommit', str),
    phases: list(o, 'phases', (p, path) =>
      clean({
        name: phase(p, 'name', path),
        seconds: num(p, 'seconds', path),
        ok: bool(p, 'ok', path),
        detail: opt(p, 'detail', str, path),
      }),
    ),
    checks: list(o, 'checks', (c, path) =>
      clean({ name: str(c, 'name', path), ok: bool(c, 'ok', path), detail: opt(c, 'detail', str, path) }),
    ),
    host: str(o, 'host', ''),
    pgkeepVersion: str(o, 'pgkeepVersion', ''),
  });
}

function phase(o: object, k: string, path: string): DrillPhase {
  const v = str(o, k, path);
  const known = DRILL_PHASES.find((p) => p === v);
  if (!known) throw new Error(`${path}${k} is "${v.slice(0, 40)}", not one of ${DRILL_PHASES.join(', ')}`);
  return known;
}

function targetKind(t: object): 'latest' | 'random' | 'time' {
  const v = str(t, 'kind', 'target.');
  if (v !== 'latest' && v !== 'random' && v !== 'time') throw new Error(`target.kind is "${v.slice(0, 40)}", not latest, random or time`);
  return v;
}

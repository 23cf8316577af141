/**
 * The records `pgkeep drill` keeps in the repository, one object per drill:
 * `drills/<cluster>/<id>.json` (the repository appends its codec and encryption suffixes). This
 * file holds only their shape and the reader; a record that cannot be read or does not have the
 * shape is reported as damaged, never skipped.
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';

export interface DrillPhase {
  name: string;
  seconds: number;
  ok: boolean;
  detail?: string;
}

export interface DrillCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface DrillRecord {
  format: 1;
  id: string;
  cluster: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  failedPhase?: string;
  error?: string;
  backupId?: string;
  target: { kind: string; time?: string; lsn?: string };
  rtoSeconds: number;
  rpoSeconds?: number;
  phases: DrillPhase[];
  checks: DrillCheck[];
  host: string;
  pgkeepVersion: string;
}

/** A record that is there but cannot be used: its object name and why. */
export interface DamagedDrillRecord {
  object: string;
  message: string;
}

/** Prefix of every drill record of a cluster. */
export const drillPrefix = (cluster: string) => `drills/${cluster}/`;

/** Object name of a drill record. */
export const drillObjectName = (cluster: string, id: string) => `${drillPrefix(cluster)}${id}.json`;

/** The drill records of a cluster, oldest first, and those that are damaged. */
export async function readDrillRecords(
  repo: Pick<Repository, 'listObjects' | 'getObject'>,
  cluster: string,
): Promise<{ records: DrillRecord[]; damaged: DamagedDrillRecord[] }> {
  const records: DrillRecord[] = [];
  const damaged: DamagedDrillRecord[] = [];
  for await (const o of repo.listObjects(drillPrefix(cluster))) {
    try {
      if (!o.name.endsWith('.json')) throw new Error('not a drill record (its name does not end in .json)');
      records.push(parseDrillRecord(JSON.parse((await repo.getObject(o.name)).toString('utf8'))));
    } catch (e) {
      damaged.push({ object: o.name, message: e instanceof Error ? e.message : String(e) });
    }
  }
  records.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : 0));
  return { records, damaged };
}

/** The drill records of a cluster, oldest first; DATA_INTEGRITY naming the damaged ones if any. */
export async function listDrillRecords(repo: Pick<Repository, 'listObjects' | 'getObject'>, cluster: string): Promise<DrillRecord[]> {
  const { records, damaged } = await readDrillRecords(repo, cluster);
  if (damaged.length) {
    throw new PgkeepError('DATA_INTEGRITY', `damaged drill records: ${damaged.map((d) => `${d.object} (${d.message})`).join('; ')}`, {
      hint: 'the other records are intact; delete or replace the damaged objects',
    });
  }
  return records;
}

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
    failedPhase: opt(o, 'failedPhase', str),
    error: opt(o, 'error', str),
    backupId: opt(o, 'backupId', str),
    target: clean({ kind: str(t, 'kind', 'target.'), time: opt(t, 'time', str, 'target.'), lsn: opt(t, 'lsn', str, 'target.') }),
    rtoSeconds: num(o, 'rtoSeconds', ''),
    rpoSeconds: opt(o, 'rpoSeconds', num),
    phases: list(o, 'phases', (p, path) =>
      clean({ name: str(p, 'name', path), seconds: num(p, 'seconds', path), ok: bool(p, 'ok', path), detail: opt(p, 'detail', str, path) }),
    ),
    checks: list(o, 'checks', (c, path) =>
      clean({ name: str(c, 'name', path), ok: bool(c, 'ok', path), detail: opt(c, 'detail', str, path) }),
    ),
    host: str(o, 'host', ''),
    pgkeepVersion: str(o, 'pgkeepVersion', ''),
  });
}

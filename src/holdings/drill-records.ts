/**
 * The record of one restore drill (`pgkeep drill`), pass or fail: a whole object
 * `drills/<cluster>/<drill id>.json.<codec>[.enc]` in the repository (compressed and encrypted
 * like a manifest), so months of drills are evidence an auditor can read back
 * (`pgkeep drill list --json`) and the agent's monitor and the dashboard can show. `repo gc` and
 * `repo check` look only at packs/: drill records are never collected nor reported as unknown.
 *
 * The shape is a contract (format 1): fields may be added, never renamed or removed.
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { parseDrillRecord } from './drill-record-parse.js';

export { parseDrillRecord };

export const DRILL_PHASES = ['choose', 'restore', 'wal', 'start', 'checks'] as const;
export type DrillPhase = (typeof DRILL_PHASES)[number];

export interface DrillPhaseRecord {
  name: DrillPhase;
  seconds: number;
  ok: boolean;
  detail?: string;
}

export interface DrillCheckRecord {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface DrillRecord {
  format: 1;
  /** Sortable by time: `YYYYMMDDTHHMMSSZ-<random>`. */
  id: string;
  cluster: string;
  startedAt: string;
  finishedAt: string;
  ok: boolean;
  failedPhase?: DrillPhase;
  error?: string;
  /** The failure's stable code (docs/exit-codes.md): what `pgkeep drill` exited with. */
  errorCode?: string;
  /** What to do about the failure. */
  hint?: string;
  backupId?: string;
  target: { kind: 'latest' | 'random' | 'time'; time?: string; lsn?: string };
  /** The sum of the phases' seconds (= the drill's wall time). */
  rtoSeconds: number;
  /** The newest commit in the archive minus the newest commit the restored copy holds (docs/operations.md). */
  rpoSeconds?: number;
  /** The newest commit in the archive, and the newest commit the restored copy holds (ISO times), when known. */
  newestArchivedCommit?: string;
  recoveredCommit?: string;
  phases: DrillPhaseRecord[];
  checks: DrillCheckRecord[];
  host: string;
  pgkeepVersion: string;
}

type DrillStore = Pick<Repository, 'putObject' | 'getObject' | 'listObjects' | 'location'>;

const ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{6}$/;

export function drillPrefix(cluster: string): string {
  return `drills/${cluster}/`;
}

export function drillObjectName(cluster: string, id: string): string {
  return `${drillPrefix(cluster)}${id}.json`;
}

/** A new drill id for a drill started at `at`. */
export function newDrillId(at: Date, random: () => number = Math.random): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const hex = Math.floor(random() * 0x1000000)
    .toString(16)
    .padStart(6, '0');
  return `${stamp}-${hex}`;
}

export function isDrillId(id: string): boolean {
  return ID_RE.test(id);
}

export async function writeDrillRecord(repo: DrillStore, record: DrillRecord): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
  await repo.putObject(drillObjectName(record.cluster, record.id), body);
}

export async function readDrillRecord(repo: DrillStore, cluster: string, id: string): Promise<DrillRecord> {
  if (!isDrillId(id)) {
    throw new PgkeepError('USAGE', `"${id}" is not a drill id`, { hint: 'pgkeep drill list shows the ids (like 20260102T030405Z-1a2b3c)' });
  }
  let raw: Buffer;
  try {
    raw = await repo.getObject(drillObjectName(cluster, id));
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'NOT_FOUND') {
      throw new PgkeepError('NOT_FOUND', `no drill ${id} of cluster "${cluster}" in ${repo.location}`, {
        hint: 'pgkeep drill list shows the drills of the cluster',
      });
    }
    throw e;
  }
  return parseRecordObject(raw, drillObjectName(cluster, id), repo.location);
}

function parseRecordObject(raw: Buffer, name: string, location: string): DrillRecord {
  try {
    return parseDrillRecord(JSON.parse(raw.toString('utf8')));
  } catch (e) {
    throw new PgkeepError('DATA_INTEGRITY', `${name} in ${location} is not a drill record this pgkeep reads: ${(e as Error).message}`, {
      hint: 'a newer pgkeep may have written it (upgrade pgkeep), or the object is damaged',
    });
  }
}

/** A record that is there but cannot be used: its object name and why. */
export interface DamagedDrillRecord {
  object: string;
  message: string;
}

/** The drill records of a cluster, oldest first, and those that are damaged (never skipped). */
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
  records.sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { records, damaged };
}

/** Every drill record of the cluster, oldest first; DATA_INTEGRITY naming the damaged ones if any. */
export async function listDrillRecords(repo: Pick<Repository, 'listObjects' | 'getObject'>, cluster: string): Promise<DrillRecord[]> {
  const { records, damaged } = await readDrillRecords(repo, cluster);
  if (damaged.length) {
    throw new PgkeepError('DATA_INTEGRITY', `damaged drill records: ${damaged.map((d) => `${d.object} (${d.message})`).join('; ')}`, {
      hint: 'the other records are intact; delete or replace the damaged objects',
    });
  }
  return records;
}

/** The newest drill record of the cluster (by id), reading only that one; undefined when none. */
export async function newestDrillRecord(repo: DrillStore, cluster: string): Promise<DrillRecord | undefined> {
  let newest: string | undefined;
  for await (const o of repo.listObjects(drillPrefix(cluster))) {
    const id = o.name.endsWith('.json') ? o.name.slice(drillPrefix(cluster).length, -'.json'.length) : '';
    if (isDrillId(id) && (newest === undefined || id > newest)) newest = id;
  }
  return newest === undefined ? undefined : readDrillRecord(repo, cluster, newest);
}

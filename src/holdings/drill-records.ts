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
  return parseDrillRecord(raw, drillObjectName(cluster, id), repo.location);
}

function parseDrillRecord(raw: Buffer, name: string, location: string): DrillRecord {
  let parsed: Partial<DrillRecord>;
  try {
    parsed = JSON.parse(raw.toString('utf8')) as Partial<DrillRecord>;
  } catch (e) {
    throw new PgkeepError('DATA_INTEGRITY', `${name} in ${location} is not JSON: ${(e as Error).message}`);
  }
  if (parsed.format !== 1 || typeof parsed.id !== 'string' || typeof parsed.ok !== 'boolean' || !Array.isArray(parsed.phases)) {
    throw new PgkeepError('DATA_INTEGRITY', `${name} in ${location} is not a drill record of format 1`, {
      hint: 'a newer pgkeep may have written it: upgrade pgkeep to read it',
    });
  }
  return parsed as DrillRecord;
}

/** Every drill record of the cluster, oldest first (ids sort by start time). */
export async function listDrillRecords(repo: DrillStore, cluster: string): Promise<DrillRecord[]> {
  const out: DrillRecord[] = [];
  for await (const o of repo.listObjects(drillPrefix(cluster))) {
    if (!o.name.endsWith('.json')) continue;
    const id = o.name.slice(drillPrefix(cluster).length, -'.json'.length);
    if (!isDrillId(id)) continue;
    out.push(parseDrillRecord(await repo.getObject(o.name), o.name, repo.location));
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
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

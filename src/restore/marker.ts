/**
 * The in-progress marker: DIR/.pgkeep-restore-in-progress is written before anything else and
 * removed last, so a directory holding it is known to be incomplete. A later `--delta` restore
 * finishes the job; without `--delta`, restore says the previous one was interrupted.
 *
 * It is written atomically (a temporary file, fsynced, renamed over it, the directory fsynced), so
 * a killed restore leaves no marker or a complete one. An empty or garbled marker (from an older
 * version, or a damaged disk) still marks an interrupted restore, of an unknown snapshot.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { fsyncDir } from './file-attrs.js';

export const MARKER_FILE = '.pgkeep-restore-in-progress';
/** Names pgkeep keeps in the data directory while restoring (never "stray"). */
export const RESTORE_TEMP_PREFIX = '.pgkeep-restore';

export interface MarkerInfo {
  snapshot: string;
  cluster: string;
  startedAt: string;
  pid: number;
  host: string;
}

export function markerPath(dataDir: string): string {
  return join(dataDir, MARKER_FILE);
}

/** Where the marker is written before it is renamed into place (one restore per directory at a time). */
export const MARKER_TEMP_FILE = `${MARKER_FILE}.tmp`;

const UNKNOWN: MarkerInfo = { snapshot: 'unknown', cluster: 'unknown', startedAt: 'unknown', pid: 0, host: 'unknown' };

/** The marker's content, undefined when there is none; unreadable content still counts as a marker. */
export async function readMarker(dataDir: string): Promise<MarkerInfo | undefined> {
  let text: string;
  try {
    text = await readFile(markerPath(dataDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let parsed: Partial<MarkerInfo> | null;
  try {
    parsed = JSON.parse(text) as Partial<MarkerInfo> | null;
  } catch {
    return { ...UNKNOWN };
  }
  if (!parsed || typeof parsed !== 'object' || typeof parsed.snapshot !== 'string') return { ...UNKNOWN };
  return { ...UNKNOWN, ...parsed };
}

export async function writeMarker(dataDir: string, snapshot: string, cluster: string): Promise<void> {
  const info: MarkerInfo = { snapshot, cluster, startedAt: new Date().toISOString(), pid: process.pid, host: hostname() };
  const tmp = join(dataDir, MARKER_TEMP_FILE);
  const fh = await open(tmp, 'w', 0o600); // a temp left by a killed restore is overwritten
  try {
    await fh.writeFile(JSON.stringify(info) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, markerPath(dataDir));
  await fsyncDir(dataDir);
}

export async function removeMarker(dataDir: string): Promise<void> {
  await rm(markerPath(dataDir), { force: true });
}

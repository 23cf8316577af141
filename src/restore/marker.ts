/**
 * The in-progress marker: DIR/.pgkeep-restore-in-progress is written before anything else and
 * removed last, so a directory holding it is known to be incomplete. A later `--delta` restore
 * finishes the job; without `--delta`, restore says the previous one was interrupted.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFile, rm, writeFile } from 'node:fs/promises';

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

/** The marker's content, undefined when there is none; unreadable content still counts as a marker. */
export async function readMarker(dataDir: string): Promise<MarkerInfo | undefined> {
  let text: string;
  try {
    text = await readFile(markerPath(dataDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as MarkerInfo;
  } catch {
    return { snapshot: 'unknown', cluster: 'unknown', startedAt: 'unknown', pid: 0, host: 'unknown' };
  }
}

export async function writeMarker(dataDir: string, snapshot: string, cluster: string): Promise<void> {
  const info: MarkerInfo = { snapshot, cluster, startedAt: new Date().toISOString(), pid: process.pid, host: hostname() };
  await writeFile(markerPath(dataDir), JSON.stringify(info) + '\n', { mode: 0o600 });
}

export async function removeMarker(dataDir: string): Promise<void> {
  await rm(markerPath(dataDir), { force: true });
}

/**
 * Step "check repository placement": before anything is written, a local repository inside the
 * cluster's data directory or one of its tablespaces is refused (it would be backed up into
 * itself). The places are what this host can see: the configured pgdata, the data directory the
 * server reports (local; stream when the role may read it), the tablespaces the server reports
 * and those linked from DIR/pg_tblspc (cold). Stream learns its tablespaces when BASE_BACKUP
 * starts: they are checked then, before the first file is stored.
 */
import { readdir, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ClusterSettings } from '../config/types.js';
import type { Repository } from '../repo/index.js';
import { refuseRepoInside, type Place } from '../repo/placement.js';
import type { TablespaceInfo } from '../holdings/physical-meta.js';
import type { ServerFacts } from './types.js';

async function linkedTablespaces(dataDir: string): Promise<TablespaceInfo[]> {
  let names: string[];
  try {
    names = await readdir(join(dataDir, 'pg_tblspc'));
  } catch {
    return [];
  }
  const out: TablespaceInfo[] = [];
  for (const oid of names) {
    const target = await readlink(join(dataDir, 'pg_tblspc', oid)).catch(() => undefined);
    if (target) out.push({ oid, location: resolve(dataDir, 'pg_tblspc', target) });
  }
  return out;
}

export function tablespacePlaces(tablespaces: TablespaceInfo[]): Place[] {
  return tablespaces.filter((t) => t.location).map((t) => ({ what: `tablespace ${t.oid}`, path: t.location }));
}

/** Refuse a repository inside the data directory or a tablespace (CONFIG); nothing is written before. */
export async function checkRepoPlacement(
  repo: Repository,
  facts: ServerFacts & { dataDirectory?: string },
  settings: ClusterSettings,
): Promise<void> {
  const dataDirs = [...new Set([facts.pgdata, facts.dataDirectory, settings.pgdata].filter((d): d is string => Boolean(d)))];
  const places: Place[] = dataDirs.map((path) => ({ what: 'the data directory', path }));
  places.push(...tablespacePlaces(facts.tablespaces));
  for (const d of dataDirs) places.push(...tablespacePlaces(await linkedTablespaces(d)));
  await refuseRepoInside(repo, places);
}

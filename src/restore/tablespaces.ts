/**
 * Step "tablespaces": each tablespace's location directory (created, 0700, owned like its
 * symlink) and the pg_tblspc/<oid> symlink pointing at it, before the files are written; after
 * them, tablespace_map (hot backups) rewritten with the new locations, because the server
 * recreates the symlinks from that file when recovery starts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileRecord } from '../repo/index.js';
import { setAttributes, setMtime } from './file-attrs.js';
import { applyOwner, type OwnerResolver } from './ownership.js';
import { TABLESPACE_MAP, type RestorePlan } from './plan.js';
import { remapTablespaceMapFile } from './tablespace-map.js';
import type { RestoreStats } from './types.js';
import { ensureDirectory, ensureSymlink } from './write-files.js';

export async function createTablespaces(plan: RestorePlan, owners: OwnerResolver, stats: RestoreStats): Promise<void> {
  if (plan.tablespaces.length === 0) return;
  const tblspc = join(plan.dataDir, 'pg_tblspc');
  const tblspcRecord = plan.directories.find((d) => d.rel === 'pg_tblspc');
  await ensureDirectory(tblspc, 0o700);
  if (tblspcRecord) await setAttributes(tblspc, tblspcRecord.record, owners);
  for (const t of plan.tablespaces) {
    if (await ensureDirectory(t.to, 0o700)) stats.directoriesCreated++;
    const like = t.record ?? plan.ownerRecord; // the plan gave owner-less records the data directory's owner
    const owner = like ? owners.ownerOf(like) : undefined;
    await applyOwner(t.to, owner);
    if (await ensureSymlink(t.link, t.to)) stats.symlinksCreated++;
    await applyOwner(t.link, owner);
    if (t.record) await setMtime(t.link, t.record, true);
  }
}

/**
 * Write tablespace_map with the restored locations (when one moved); writes it from the meta
 * when the snapshot lacks the file but the backup recorded one.
 */
export async function rewriteTablespaceMap(
  plan: RestorePlan,
  metaText: string | undefined,
  owners: OwnerResolver,
  rootRecord?: FileRecord,
): Promise<boolean> {
  const path = join(plan.dataDir, TABLESPACE_MAP);
  const stored = plan.files.find((f) => f.rel === TABLESPACE_MAP);
  const current = stored ? await readFile(path, 'utf8') : metaText;
  if (current === undefined || current === '') return false;
  const text = remapTablespaceMapFile(current, plan.tablespaces);
  if (stored && text === current) return false;
  await writeFile(path, text, { mode: 0o600 });
  const like = stored?.record ?? rootRecord;
  if (like) await applyOwner(path, owners.ownerOf(like));
  return true;
}

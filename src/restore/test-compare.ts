/** Helpers for the restore tests (not used by the product): comparing restored directories. */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileRecord } from '../repo/index.js';

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Differences between a restored directory and a snapshot's records (content, mode, type),
 * `tablespaces` mapping oid -> restored location. Empty when they match.
 */
export function compareWithRecords(dataDir: string, records: FileRecord[], tablespaces: Map<string, string>): string[] {
  const diffs: string[] = [];
  for (const r of records) {
    const m = /^pg_tblspc\/(\d+)\/(.+)$/.exec(r.path);
    const local = m && tablespaces.has(m[1]!) ? join(tablespaces.get(m[1]!)!, m[2]!) : join(dataDir, r.path);
    let st;
    try {
      st = lstatSync(local);
    } catch {
      diffs.push(`${r.path}: missing`);
      continue;
    }
    if (r.type === 'file') {
      if (!st.isFile()) diffs.push(`${r.path}: not a file`);
      else if (st.size !== r.size) diffs.push(`${r.path}: size ${st.size}, ${r.size} recorded`);
      else if (r.sha256 && sha256File(local) !== r.sha256) diffs.push(`${r.path}: content differs`);
      else if ((st.mode & 0o7777) !== r.mode)
        diffs.push(`${r.path}: mode ${(st.mode & 0o7777).toString(8)}, ${r.mode.toString(8)} recorded`);
      else if (Math.abs(st.mtimeMs - r.mtimeMs) > 1) diffs.push(`${r.path}: mtime ${st.mtimeMs}, ${r.mtimeMs} recorded`);
    } else if (r.type === 'directory') {
      if (!st.isDirectory()) diffs.push(`${r.path}: not a directory`);
    } else if (!st.isSymbolicLink()) diffs.push(`${r.path}: not a symlink`);
  }
  return diffs;
}

/** Every file (relative path) under a directory, not following symlinks. */
export function listTree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    out.push(r);
    if (lstatSync(join(dir, r)).isDirectory()) out.push(...listTree(dir, r));
  }
  return out;
}

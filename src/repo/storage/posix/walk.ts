/**
 * Recursive listing of a directory tree as object keys in S3 order (by UTF-8 bytes of the whole
 * key). Sorting each directory's entries by `name` for files and `name + '/'` for directories
 * makes a depth-first walk produce exactly that order ("a-c" < "a/b" because '-' < '/').
 * Temporary files are skipped; entries that vanish while walking are ignored.
 */
import { promises as fsp } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { compareKeys, TEMP_PREFIX } from '../keys.js';
import type { ObjectInfo } from '../driver.js';
import { isMissing } from './fs-errors.js';

interface Entry {
  /** Key of the file, or key + '/' of the directory. */
  sortKey: string;
  key: string;
  isDir: boolean;
}

/** Yield every object under `root` whose key starts with `prefix`, in lexical order. */
export async function* walkKeys(root: string, prefix: string): AsyncGenerator<ObjectInfo> {
  // Start at the deepest directory the prefix names completely.
  const slash = prefix.lastIndexOf('/');
  const startKey = slash >= 0 ? prefix.slice(0, slash) : '';
  yield* walkDir(root, startKey, prefix);
}

/** The entries of the directory of `dirKey` (empty when it vanished). */
async function readDirKey(root: string, dirKey: string): Promise<Dirent[]> {
  try {
    return await fsp.readdir(dirKey ? join(root, ...dirKey.split('/')) : root, { withFileTypes: true });
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

async function* walkDir(root: string, dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
  const dirents = await readDirKey(root, dirKey);
  const entries: Entry[] = [];
  for (const d of dirents) {
    if (d.name.startsWith(TEMP_PREFIX)) continue;
    const key = dirKey ? `${dirKey}/${d.name}` : d.name;
    const isDir = d.isDirectory();
    if (!isDir && !d.isFile()) continue;
    const sortKey = isDir ? `${key}/` : key;
    // Keep what can match: the entry lies under the prefix, or the prefix lies inside it.
    if (!sortKey.startsWith(prefix) && !(isDir && prefix.startsWith(sortKey))) continue;
    entries.push({ sortKey, key, isDir });
  }
  entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  for (const e of entries) {
    if (e.isDir) {
      yield* walkDir(root, e.key, prefix);
      continue;
    }
    try {
      const st = await fsp.stat(join(root, ...e.key.split('/')));
      yield { key: e.key, size: st.size, mtimeMs: st.mtimeMs };
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
}

/** Every temporary file (`.pgkeep-tmp-*`) under `root`, with its path relative to the root. */
export async function* walkTemporary(root: string, dirKey = ''): AsyncGenerator<ObjectInfo> {
  for (const d of await readDirKey(root, dirKey)) {
    const key = dirKey ? `${dirKey}/${d.name}` : d.name;
    if (d.isDirectory()) {
      yield* walkTemporary(root, key);
      continue;
    }
    if (!d.isFile() || !d.name.startsWith(TEMP_PREFIX)) continue;
    try {
      const st = await fsp.stat(join(root, ...key.split('/')));
      yield { key, size: st.size, mtimeMs: st.mtimeMs };
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
  }
}

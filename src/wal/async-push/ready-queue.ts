/**
 * The archiver's queue: the files pg_wal/archive_status marks `.ready`, in the order PostgreSQL
 * archives them (timeline history files first, then by name, oldest first).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function readyFiles(pgWalDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(join(pgWalDir, 'archive_status'));
  } catch {
    return [];
  }
  const names = entries.filter((e) => e.endsWith('.ready')).map((e) => e.slice(0, -'.ready'.length));
  const history = (n: string) => (n.endsWith('.history') ? 0 : 1);
  return names.sort((a, b) => history(a) - history(b) || (a < b ? -1 : a > b ? 1 : 0));
}

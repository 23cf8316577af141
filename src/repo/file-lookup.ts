/**
 * A snapshot's file records looked up by path without holding its whole file list (the previous
 * snapshot of a backup, the snapshot a restore writes):
 * each lookup finds the part whose first..last range holds the path (the parts are sorted and do
 * not overlap) and reads it, keeping the few most recently used parts decoded. Lookups made in
 * path order read each part once; memory is at most CACHED_PARTS parts (a part holds at most
 * 20 000 chunks, ~3 MB decoded), whatever the snapshot's size.
 */
import type { FileListPart, FileRecord } from './manifest.js';

const CACHED_PARTS = 3;

export interface PartSource {
  partOf(path: string): FileListPart | undefined;
  readPart(part: FileListPart): Promise<FileRecord[]>;
}

export class FileLookup {
  /** Most recently used last; values are pending or done reads (concurrent lookups share one). */
  private readonly cache = new Map<FileListPart, Promise<Map<string, FileRecord>>>();
  /** Parts read from the repository (a measure of locality, for tests and benchmarks). */
  partReads = 0;

  constructor(private readonly snapshot: PartSource) {}

  async get(path: string): Promise<FileRecord | undefined> {
    const part = this.snapshot.partOf(path);
    if (!part) return undefined;
    return (await this.load(part)).get(path);
  }

  private load(part: FileListPart): Promise<Map<string, FileRecord>> {
    let loading = this.cache.get(part);
    if (loading) {
      this.cache.delete(part);
      this.cache.set(part, loading);
      return loading;
    }
    this.partReads++;
    loading = this.snapshot.readPart(part).then((records) => new Map(records.map((r) => [r.path, r])));
    loading.catch(() => this.cache.delete(part));
    this.cache.set(part, loading);
    while (this.cache.size > CACHED_PARTS) this.cache.delete(this.cache.keys().next().value!);
    return loading;
  }
}

/**
 * Largest first (so parallel workers finish together), but by size class (powers of two) and in
 * path order within a class: lookups then walk the file list in path order, each part read about
 * once per class instead of once per file.
 */
export function largestFirstByPath(a: { size: number; path: string }, b: { size: number; path: string }): number {
  const sizeClass = (n: number) => Math.floor(Math.log2(n + 1));
  return sizeClass(b.size) - sizeClass(a.size) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/**
 * A stored snapshot as read back: its manifest, and its files as a stream (part by part, sorted
 * by path) or by path (one part read).
 */
import type { RepoCore } from './core.js';
import { fetchPackRange, decodeVerified } from './blob-reader.js';
import { decodePart, type FileListPart, type FileRecord, type SnapshotManifest } from './manifest.js';
import { damagedBlob } from './integrity.js';

export class Snapshot {
  private cache: { part: FileListPart; records: FileRecord[] } | undefined;

  constructor(
    private readonly core: RepoCore,
    readonly manifest: SnapshotManifest,
  ) {}

  get id(): string {
    return this.manifest.id;
  }
  get cluster(): string {
    return this.manifest.cluster;
  }
  get kind(): SnapshotManifest['kind'] {
    return this.manifest.kind;
  }
  get meta(): Record<string, unknown> {
    return this.manifest.meta;
  }
  get stats(): SnapshotManifest['stats'] {
    return this.manifest.stats;
  }

  /** Every file record in path order. */
  async *files(): AsyncGenerator<FileRecord> {
    for (const part of this.manifest.parts) yield* await this.readPart(part);
  }

  /** The record of one path, or undefined when the snapshot has no such path. */
  async file(path: string): Promise<FileRecord | undefined> {
    const part = this.partOf(path);
    return part ? (await this.readPart(part)).find((r) => r.path === path) : undefined;
  }

  /** The part whose first..last range holds `path` (parts are sorted and do not overlap), if any. */
  partOf(path: string): FileListPart | undefined {
    const parts = this.manifest.parts;
    let lo = 0;
    let hi = parts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = parts[mid]!;
      if (path < p.first) hi = mid - 1;
      else if (path > p.last) lo = mid + 1;
      else return p;
    }
    return undefined;
  }

  /** Read and verify one file-list part. */
  async readPart(part: FileListPart): Promise<FileRecord[]> {
    if (this.cache?.part === part) return this.cache.records;
    const place = {
      ...part.locator,
      context: `file list of snapshot ${this.cluster}/${this.id}`,
    };
    const blob = await fetchPackRange(this.core.driver, place);
    const json = decodeVerified(this.core.key, blob, part.sha256, place);
    let records: FileRecord[];
    try {
      records = decodePart(json, this.manifest.chunkSize);
    } catch (e) {
      throw damagedBlob(place, (e as Error).message);
    }
    this.cache = { part, records };
    return records;
  }
}

/**
 * Snapshot manifests and their file lists (format versions 1 and 2): the types every use case sees,
 * and their JSON encoding. No I/O here.
 *
 * A manifest (snapshots/<cluster>/<id>.json.<codec>[.enc]) holds the snapshot's facts and the
 * locators of its file-list parts; each part is a blob (kind 1) in a pack holding up to a few
 * thousand file records sorted by path, so a snapshot of any size is read part by part.
 */
import { randomBytes } from 'node:crypto';
import { PgkeepError } from '../errors.js';
import type { Locator } from './pack-writer.js';

/** Manifest format of a snapshot with no delta chunk (readable by every pgkeep). */
export const MANIFEST_FORMAT = 1;
/** Manifest format of a snapshot with at least one delta chunk (ChunkRef.base); needs repository version 2. */
export const MANIFEST_FORMAT_DELTA = 2;
export type ManifestFormat = typeof MANIFEST_FORMAT | typeof MANIFEST_FORMAT_DELTA;

export type SnapshotKind = 'physical' | 'logical';
export type FileType = 'file' | 'directory' | 'symlink';

/** What a caller knows about a file before storing it. */
export interface FileEntry {
  /** Relative path inside the snapshot, '/'-separated (e.g. "base/5/16384"). Unique per snapshot. */
  path: string;
  type: FileType;
  /** Permission bits (e.g. 0o600). */
  mode: number;
  /** Expected size; the stored size is what was actually read. */
  size?: number;
  mtimeMs: number;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  /** For symlinks. */
  linkTarget?: string;
}

/** One chunk of a stored file: where it is in the file and where its blob is in the repository. */
export interface ChunkRef {
  /** Offset of the chunk in the file. */
  offset: number;
  /** Plaintext size of the chunk. */
  size: number;
  /** SHA-256 (hex) of the plaintext. */
  sha256: string;
  pack: string;
  /** Offset of the blob in its pack. */
  packOffset: number;
  /** Stored (compressed, encrypted) length of the blob. */
  length: number;
  /**
   * Format 2: the blob is a delta (delta-codec.ts) on this full chunk of an earlier snapshot, of
   * the same size, whose plaintext has this SHA-256. `sha256` above stays the rebuilt chunk's.
   */
  base?: ChunkBase;
}

/** The full chunk a delta chunk is made on (never a delta itself). */
export interface ChunkBase {
  pack: string;
  packOffset: number;
  length: number;
  sha256: string;
}

/** A stored file as listed in a snapshot. */
export interface FileRecord extends FileEntry {
  /** Stored size in bytes (0 for directories and symlinks). */
  size: number;
  /** SHA-256 (hex) of the whole content, when computed. */
  sha256?: string;
  chunks: ChunkRef[];
}

export interface SnapshotStats {
  files: number;
  /** Sum of file sizes. */
  logicalBytes: number;
  /** Bytes of new blobs this snapshot wrote (compressed, encrypted), file lists included. */
  storedBytes: number;
  /** Plaintext bytes not stored again: taken over from the previous snapshot, or equal to a chunk this snapshot stored (recent-chunks.ts). */
  reusedBytes: number;
  newChunks: number;
  reusedChunks: number;
  /** Files reused whole (reuseFile) without reading them. */
  reusedFiles: number;
  /** Of newChunks, those stored as deltas on a base chunk (format 2; absent in older manifests). */
  deltaChunks?: number;
}

export interface FileListPart {
  locator: Locator;
  /** SHA-256 (hex) of the part's JSON. */
  sha256: string;
  files: number;
  /** First and last path in the part (parts are sorted by path and do not overlap). */
  first: string;
  last: string;
}

export interface SnapshotManifest {
  format: ManifestFormat;
  id: string;
  cluster: string;
  kind: SnapshotKind;
  /** ISO times. */
  startTime: string;
  stopTime: string;
  chunkSize: number;
  /** The snapshot this one was made incremental to, if any. */
  previous: string | null;
  stats: SnapshotStats;
  /** Caller data (method, LSNs, backup_label...), opaque to the repository. */
  meta: Record<string, unknown>;
  parts: FileListPart[];
}

const ID_RE = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;
const CLUSTER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * A new snapshot id: UTC time to the second, then 4 hex digits = milliseconds * 64 + 6 random
 * bits, so ids sort by creation time even within one second.
 */
export function newSnapshotId(now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const suffix = now.getUTCMilliseconds() * 64 + (randomBytes(1)[0]! & 63);
  return `${t}-${suffix.toString(16).padStart(4, '0')}`;
}

export function isSnapshotId(id: string): boolean {
  return ID_RE.test(id);
}

/** The one rule for cluster names, on the command line, in PGKEEP_CLUSTER, in the config file and in the repository. */
export const CLUSTER_NAME_RULE = 'a cluster name uses letters, digits, "_", "-" and "." and does not start with "." or "-"';

export function isClusterName(cluster: string): boolean {
  return CLUSTER_RE.test(cluster);
}

export function checkClusterName(cluster: string): void {
  if (!isClusterName(cluster)) {
    throw new PgkeepError('USAGE', `invalid cluster name "${cluster}"`, { hint: CLUSTER_NAME_RULE });
  }
}

/** Logical name of a manifest (authenticated when encrypted); the stored key adds the suffixes. */
export function manifestName(cluster: string, id: string): string {
  return `snapshots/${cluster}/${id}.json`;
}

/** Parse "snapshots/<cluster>/<id>.json.<suffix>[.enc]". */
export function parseManifestKey(key: string): { cluster: string; id: string } | undefined {
  const m = /^snapshots\/([^/]+)\/([^/]+)\.json\.[a-z0-9]+(?:\.enc)?$/.exec(key);
  if (!m || !isSnapshotId(m[2]!)) return undefined;
  return { cluster: m[1]!, id: m[2]! };
}

type EncodedChunk =
  | [packIndex: number, packOffset: number, length: number, sha256: string]
  | [
      packIndex: number,
      packOffset: number,
      length: number,
      sha256: string,
      basePack: number,
      baseOffset: number,
      baseLength: number,
      baseSha256: string,
    ];
interface EncodedFile extends Omit<FileRecord, 'chunks'> {
  chunks: EncodedChunk[];
}
interface EncodedPart {
  packs: string[];
  files: EncodedFile[];
}

/** Encode file records (already sorted) as one part's JSON. */
export function encodePart(records: FileRecord[]): Buffer {
  const packs: string[] = [];
  const packIndex = new Map<string, number>();
  const indexOf = (pack: string) => {
    let i = packIndex.get(pack);
    if (i === undefined) {
      i = packs.length;
      packs.push(pack);
      packIndex.set(pack, i);
    }
    return i;
  };
  const files: EncodedFile[] = records.map((r) => {
    const { chunks, ...rest } = r;
    return {
      ...rest,
      chunks: chunks.map((c): EncodedChunk => {
        const at = indexOf(c.pack);
        if (!c.base) return [at, c.packOffset, c.length, c.sha256];
        return [at, c.packOffset, c.length, c.sha256, indexOf(c.base.pack), c.base.packOffset, c.base.length, c.base.sha256];
      }),
    };
  });
  return Buffer.from(JSON.stringify({ packs, files } satisfies EncodedPart), 'utf8');
}

/** Decode a part; chunk offsets and sizes follow from fixed-size chunking. */
export function decodePart(json: Buffer, chunkSize: number): FileRecord[] {
  const part = JSON.parse(json.toString('utf8')) as EncodedPart;
  if (!Array.isArray(part?.packs) || !Array.isArray(part.files)) throw new Error('file list part has no packs/files');
  const packOf = (p: number) => {
    const pack = part.packs[p];
    if (pack === undefined) throw new Error(`file list part names pack #${p}, which it does not list`);
    return pack;
  };
  return part.files.map((f) => ({
    ...f,
    chunks: f.chunks.map((e, i) => {
      const fields: number = e.length;
      if (fields !== 4 && fields !== 8) throw new Error(`chunk ${i} of "${f.path}" has ${fields} fields, 4 or 8 expected`);
      const offset = i * chunkSize;
      const c: ChunkRef = {
        offset,
        size: Math.min(chunkSize, f.size - offset),
        sha256: e[3],
        pack: packOf(e[0]),
        packOffset: e[1],
        length: e[2],
      };
      if (e.length === 8) c.base = { pack: packOf(e[4]), packOffset: e[5], length: e[6], sha256: e[7] };
      return c;
    }),
  }));
}

/** The manifest format a snapshot's records need: 2 once any chunk is a delta. */
export function manifestFormatFor(hasDeltas: boolean): ManifestFormat {
  return hasDeltas ? MANIFEST_FORMAT_DELTA : MANIFEST_FORMAT;
}

export function validateManifest(m: SnapshotManifest, cluster: string, id: string): void {
  if (m?.format !== MANIFEST_FORMAT && m?.format !== MANIFEST_FORMAT_DELTA) throw new Error(`unsupported manifest format ${m?.format}`);
  if (m.cluster !== cluster || m.id !== id) throw new Error(`manifest says ${m.cluster}/${m.id}`);
  if (!Array.isArray(m.parts) || !Number.isInteger(m.chunkSize)) throw new Error('manifest has no parts or chunk size');
}

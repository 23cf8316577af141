/** The repository engine's public surface. Use cases import from here only. */
export { Repository } from './repository.js';
export type { DamagedManifest, InitOptions, OpenOptions, ReadOptions, StartSnapshotOptions } from './repository.js';
export { Snapshot } from './snapshot.js';
export { FileLookup, largestFirstByPath } from './file-lookup.js';
export { withChunks, withoutChunks } from './file-chunks.js';
export { BATCH_FILE_BYTES, FileBatch, type BatchTarget } from './file-batch.js';
export { SnapshotWriter } from './snapshot-writer.js';
export type {
  ChunkRef,
  FileEntry,
  FileListPart,
  FileRecord,
  FileType,
  SnapshotKind,
  SnapshotManifest,
  SnapshotStats,
} from './manifest.js';
export { isSnapshotId, newSnapshotId } from './manifest.js';
export type { Content, ContentCheck, ContentReader } from './chunker.js';
export { streamContent } from './chunker.js';
export type { PutObjectOptions, StoredObjectInfo } from './objects.js';
export { checkRepository } from './check.js';
export type { CheckOptions, CheckReport } from './check.js';
export type { Damage } from './refs.js';
export { garbageCollect } from './gc.js';
export type { GcOptions, GcPackAction, GcReport } from './gc.js';
export { repositoryInfo } from './info.js';
export type { RepoInfo } from './info.js';
export { parseCodec, formatCodec, DEFAULT_CODEC } from './codec.js';
export type { Codec, CodecName } from './codec.js';
export { parseChunkSize, DEFAULT_CHUNK_SIZE, FORMAT_VERSION } from './repo-config.js';
export { openRepository, initRepository } from './open.js';
export type { RepoLocation } from './open.js';
export { withRepoLock } from './with-lock.js';

/** The replication protocol: message parsing/serialising without I/O, then the client. */
export { parseBaseBackupCopyData, type BaseBackupMessage } from './base-backup-messages.js';
export {
  parseReplicationCopyData,
  buildStandbyStatusUpdate,
  buildHotStandbyFeedback,
  type ReplicationMessage,
  type XLogDataMessage,
  type KeepaliveMessage,
  type StandbyStatus,
  type HotStandbyFeedback,
} from './replication-messages.js';
export { PG_EPOCH_MS, toPgTimestamp, fromPgTimestamp } from './pg-time.js';
export { createTarParser, type TarParser, type TarEntry, type TarEntryType, type TarEvent } from './tar-parser.js';
export {
  parseBackupManifest,
  computeManifestChecksum,
  type BackupManifest,
  type ManifestFile,
  type ManifestWalRange,
  type ManifestChecksumAlgorithm,
  type ParseManifestOptions,
} from './backup-manifest.js';
export {
  verifyManifestEntries,
  assertManifestVerified,
  defaultIgnoreExtra,
  type StoredFileFacts,
  type ManifestVerification,
  type ManifestMismatch,
  type VerifyManifestOptions,
} from './manifest-verify.js';
export {
  buildBaseBackupCommand,
  buildStartReplicationCommand,
  buildCreatePhysicalSlotCommand,
  buildDropSlotCommand,
  buildTimelineHistoryCommand,
  buildShowCommand,
  checkSlotName,
  quoteLiteral,
  type BaseBackupOptions,
  type StartReplicationOptions,
} from './replication-commands.js';
export { replicationCommandError } from './replication-errors.js';
export { baseBackupDialect, versionText, OLDEST_STREAM_MAJOR, type BaseBackupDialect } from './base-backup-dialect.js';
export { BaseBackupStream, type BackupEvent, type BackupTablespace, type BaseBackupStreamOptions } from './base-backup-stream.js';
export { WalStream, type WalEvent, type WalStreamOptions } from './wal-stream.js';
export {
  ReplicationClient,
  type SystemIdentity,
  type ReplicationSlotInfo,
  type ReplicationConnectOptions,
  type BaseBackupRequest,
  type StartReplicationRequest,
} from './replication-client.js';

/**
 * What the repository holds for a cluster, as every use case sees it: the cluster's identity, its
 * snapshots with their meta (physical and logical) read and checked once, how "latest" and an id name a
 * snapshot (one rule for every command), and the WAL archive's layout, listing and read-back.
 * Sits between the use cases and repo/ + pg/ (docs/architecture.md): it imports only those and
 * the leaves, never a use case nor cli/.
 */
export { checkClusterIdentity, readClusterIdentity, identityObjectName, type ClusterIdentity } from './cluster-identity.js';
export type { PhysicalBackupMeta, TablespaceInfo, ExternalConfig, ExternalConfigFile, ConfigRole } from './physical-meta.js';
export { backupFirstSegment } from './physical-meta.js';
export { readPhysicalMeta, type MetaSource } from './read-physical-meta.js';
export type { DumpMeta, DumpedDatabase, DumpFormat, Toc, TocEntry, TocHeader } from './dump-meta.js';
export { DUMP_FORMATS } from './dump-meta.js';
export { readDumpMeta } from './read-dump-meta.js';
export {
  resolveSnapshotRef,
  idAmong,
  readableSnapshots,
  isLatestRef,
  LATEST_REFS,
  type WantedKind,
  type SnapshotRefSource,
} from './snapshot-ref.js';
export { resolveSnapshot, type ResolvedSnapshot } from './physical-snapshot.js';
export { walObjectName, walClusterPrefix, walSystemPrefix, parseWalObjectName, checkSystemId, type WalObjectRef } from './wal-layout.js';
export { listArchive, type ArchivedFile, type ArchivedSystem } from './wal-listing.js';
export { readArchivedFiles, type DamagedWalFile, type WalReadResult, type WalReadOptions } from './wal-read.js';
export { checkNeededWal, needsArchivedWal, type NeededWalReport } from './needed-wal.js';
export { checkRepositoryAndWal, type RepositoryCheckOptions, type RepositoryCheckReport } from './repository-check.js';
export {
  listDrillRecords,
  newestDrillRecord,
  readDrillRecord,
  readDrillRecords,
  writeDrillRecord,
  parseDrillRecord,
  drillObjectName,
  drillPrefix,
  DRILL_PHASES,
  type DrillRecord,
  type DrillPhase,
  type DrillPhaseRecord,
  type DrillCheckRecord,
  type DamagedDrillRecord,
} from './drill-records.js';

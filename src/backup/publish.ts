/**
 * Step "publish manifest": the snapshot's meta (what a restore needs to know) is assembled and
 * the writer commits — packs first, the manifest last, so the backup exists only when complete.
 */
import type { SnapshotManifest, SnapshotWriter } from '../repo/index.js';
import { formatLsn } from '../pg/lsn.js';
import type { ExternalConfig, PhysicalBackupMeta } from '../holdings/physical-meta.js';
import type { BackupMethod, CopyReport, ServerFacts, StartInfo, StopInfo } from './types.js';
import { walRange } from '../pg/wal/range.js';

export interface MetaInput {
  method: BackupMethod;
  label: string;
  standalone: boolean;
  facts: ServerFacts;
  start: StartInfo;
  stop: StopInfo;
  copy: CopyReport;
  walSegments: number;
  incrementalFrom?: string;
  externalConfig?: ExternalConfig;
  seconds: number;
}

export function buildMeta(i: MetaInput): PhysicalBackupMeta {
  const cold = i.method === 'cold';
  const range = cold ? undefined : walRange(i.start.timeline, i.start.startLsn, i.stop.stopLsn, i.facts.walSegmentSize);
  return {
    method: i.method,
    label: i.label,
    standalone: i.standalone,
    systemIdentifier: i.facts.systemIdentifier,
    serverVersion: i.facts.serverVersion,
    serverVersionNum: i.facts.serverVersionNum,
    timeline: i.start.timeline,
    startLsn: formatLsn(i.start.startLsn),
    stopLsn: formatLsn(i.stop.stopLsn),
    startTime: i.start.startTime.toISOString(),
    stopTime: i.stop.stopTime.toISOString(),
    walSegmentSize: i.facts.walSegmentSize,
    walStart: range?.walStart ?? '',
    walEnd: range?.walEnd ?? '',
    ...(i.stop.backupLabel ? { backupLabel: i.stop.backupLabel } : {}),
    ...(i.stop.tablespaceMap ? { tablespaceMap: i.stop.tablespaceMap } : {}),
    tablespaces: i.copy.tablespaces ?? i.facts.tablespaces,
    dataChecksums: i.facts.dataChecksums,
    serverManifest: i.method === 'stream',
    ...(i.externalConfig ? { externalConfig: i.externalConfig } : {}),
    ...(i.incrementalFrom ? { incrementalFrom: i.incrementalFrom } : {}),
    stats: {
      walSegments: i.walSegments,
      pagesChecked: i.copy.pagesChecked,
      checksumFailures: i.copy.checksumFailures.length,
      vanishedFiles: i.copy.vanished.length,
      ...(i.copy.manifestFilesChecked !== undefined ? { manifestFilesChecked: i.copy.manifestFilesChecked } : {}),
      seconds: Math.round(i.seconds * 1000) / 1000,
    },
  };
}

export async function publishSnapshot(writer: SnapshotWriter, meta: PhysicalBackupMeta): Promise<SnapshotManifest> {
  return writer.commit(meta);
}

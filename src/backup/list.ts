/** `pgkeep list`: the snapshots of a cluster, oldest first (so the newest is last, next to the prompt). */
import type { Repository, SnapshotManifest } from '../repo/index.js';
import { readDumpMeta, readPhysicalMeta } from '../holdings/index.js';
import { PgkeepError } from '../errors.js';

export interface BackupSummary {
  id: string;
  kind: SnapshotManifest['kind'];
  /** stream | local | cold for physical backups; "dump (<format>)" for logical ones. */
  method: string;
  label?: string;
  startTime: string;
  stopTime: string;
  startLsn?: string;
  stopLsn?: string;
  timeline?: number;
  /** Logical size: sum of the file sizes. */
  size: number;
  /** Bytes this snapshot added to the repository (compressed, encrypted). */
  storedBytes: number;
  standalone?: boolean;
  files: number;
  incrementalFrom?: string;
  walStart?: string;
  walEnd?: string;
}

export function summarize(m: SnapshotManifest): BackupSummary {
  const base = {
    id: m.id,
    kind: m.kind,
    startTime: m.startTime,
    stopTime: m.stopTime,
    size: m.stats.logicalBytes,
    storedBytes: m.stats.storedBytes,
    files: m.stats.files,
  };
  if (m.kind === 'physical') {
    const meta = readPhysicalMeta(m);
    return {
      ...base,
      method: meta.method,
      label: meta.label,
      startTime: meta.startTime,
      stopTime: meta.stopTime,
      startLsn: meta.startLsn,
      stopLsn: meta.stopLsn,
      timeline: meta.timeline,
      standalone: meta.standalone,
      ...(meta.incrementalFrom ? { incrementalFrom: meta.incrementalFrom } : {}),
      ...(meta.walStart ? { walStart: meta.walStart, walEnd: meta.walEnd } : {}),
    };
  }
  return { ...base, method: `dump (${readDumpMeta(m).format})` };
}

/** A snapshot whose manifest cannot be read: listed apart, with the reason. */
export interface DamagedSnapshot {
  id: string;
  message: string;
}

/** The cluster's snapshots, oldest first; DATA_INTEGRITY when a manifest or its meta is damaged. */
export async function listBackups(repo: Repository, cluster: string): Promise<BackupSummary[]> {
  return (await repo.listSnapshots(cluster)).map(summarize);
}

/** The cluster's snapshots, oldest first, and those whose manifest is damaged (not restorable). */
export async function listBackupsReport(repo: Repository, cluster: string): Promise<{ rows: BackupSummary[]; damaged: DamagedSnapshot[] }> {
  const { manifests, damaged } = await repo.readSnapshots(cluster);
  const rows: BackupSummary[] = [];
  const bad = damaged.map((d) => ({ id: d.id, message: d.error.message }));
  for (const m of manifests) {
    try {
      rows.push(summarize(m));
    } catch (e) {
      if (!(e instanceof PgkeepError) || e.code !== 'DATA_INTEGRITY') throw e;
      bad.push({ id: m.id, message: e.message }); // its meta does not parse: listed apart like a damaged manifest
    }
  }
  return { rows, damaged: bad.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

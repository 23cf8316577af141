/** A complete physical meta as `pgkeep backup` writes it, for tests that commit snapshots by hand. */
import type { PhysicalBackupMeta } from './physical-meta.js';

export function physicalMetaFixture(over: Partial<PhysicalBackupMeta> = {}): PhysicalBackupMeta {
  return {
    method: 'stream',
    label: 'pgkeep test',
    standalone: false,
    systemIdentifier: '7301234567890123456',
    serverVersion: '15.8',
    serverVersionNum: 150008,
    timeline: 1,
    startLsn: '0/2000028',
    stopLsn: '0/2000100',
    startTime: '2026-01-02T03:04:05.000Z',
    stopTime: '2026-01-02T03:04:06.000Z',
    walSegmentSize: 16 * 1024 * 1024,
    walStart: '000000010000000000000002',
    walEnd: '000000010000000000000002',
    backupLabel: 'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n',
    tablespaces: [],
    dataChecksums: true,
    serverManifest: true,
    ...over,
  };
}

/** The meta as the repository stores it (a JSON object). */
export function physicalMetaRecord(over: Partial<PhysicalBackupMeta> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify(physicalMetaFixture(over))) as Record<string, unknown>;
}

/**
 * PostgreSQL's backup_manifest (JSON, written by the server for BASE_BACKUP ... MANIFEST 'yes'):
 *
 *   { "PostgreSQL-Backup-Manifest-Version": 1,              (2 on PostgreSQL 17+, which adds
 *   "Files": [                                               "System-Identifier": <uint64>)
 *   { "Path": "backup_label", "Size": 225, "Last-Modified": "2024-05-01 10:00:00 GMT",
 *     "Checksum-Algorithm": "SHA256", "Checksum": "<hex>" },  ("Encoded-Path": hex when the
 *   ...                                                        path is not valid UTF-8)
 *   ],
 *   "WAL-Ranges": [
 *   { "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }
 *   ],
 *   "Manifest-Checksum": "<sha256 hex of every byte up to and including the second-to-last newline>"}
 *
 * Parsing and verification only; no I/O.
 */
import { createHash } from 'node:crypto';
import { PgkeepError } from '../../errors.js';
import { type Lsn, isLsnText, parseLsn } from '../lsn.js';

export type ManifestChecksumAlgorithm = 'NONE' | 'CRC32C' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512';

export interface ManifestFile {
  /** Path relative to the data directory (tablespaces: `pg_tblspc/<oid>/...`). */
  path: string;
  /** Raw path bytes when the manifest gave an Encoded-Path. */
  pathBytes?: Buffer;
  size: number;
  lastModified?: Date;
  checksumAlgorithm: ManifestChecksumAlgorithm;
  /** Lower-case hex; absent when the algorithm is NONE. */
  checksum?: string;
}

export interface ManifestWalRange {
  timeline: number;
  startLsn: Lsn;
  endLsn: Lsn;
}

export interface BackupManifest {
  version: 1 | 2;
  /** Decimal text (a uint64; PostgreSQL 17+ manifests only). */
  systemIdentifier?: string;
  files: ManifestFile[];
  walRanges: ManifestWalRange[];
  /** Lower-case hex SHA-256 the manifest carries for itself. */
  manifestChecksum: string;
}

const ALGORITHMS = new Set(['NONE', 'CRC32C', 'SHA224', 'SHA256', 'SHA384', 'SHA512']);

function damaged(why: string, details?: Record<string, unknown>): PgkeepError {
  return new PgkeepError('DATA_INTEGRITY', `invalid backup_manifest: ${why}`, {
    hint: 'the manifest the server sent (or the stored copy) is damaged; take a new backup',
    ...(details ? { details } : {}),
  });
}

/**
 * The SHA-256 a manifest should carry: over every byte up to and including the second-to-last
 * newline (the last line holds the checksum itself). Throws DATA_INTEGRITY if the text does not
 * have that shape.
 */
export function computeManifestChecksum(raw: Buffer | string): string {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  if (buf.length === 0 || buf[buf.length - 1] !== 0x0a) throw damaged('the last line is not terminated by a newline');
  const penultimate = buf.lastIndexOf(0x0a, buf.length - 2);
  if (penultimate < 0) throw damaged('expected at least two lines');
  return createHash('sha256')
    .update(buf.subarray(0, penultimate + 1))
    .digest('hex');
}

export interface ParseManifestOptions {
  /** Check Manifest-Checksum against the text (default true). */
  verifyChecksum?: boolean;
}

/** Parse backup_manifest text; throws DATA_INTEGRITY when damaged, UNSUPPORTED for unknown versions. */
export function parseBackupManifest(raw: Buffer | string, options: ParseManifestOptions = {}): BackupManifest {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw damaged(`not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw damaged('expected a JSON object');
  const version = json['PostgreSQL-Backup-Manifest-Version'];
  if (version !== 1 && version !== 2) {
    if (typeof version !== 'number') throw damaged('missing PostgreSQL-Backup-Manifest-Version');
    throw new PgkeepError('UNSUPPORTED', `backup_manifest version ${version} is not supported (pgkeep reads versions 1 and 2)`, {
      hint: 'upgrade pgkeep to a release that knows this PostgreSQL version',
    });
  }
  let systemIdentifier: string | undefined;
  if (version === 2) {
    // read the digits from the text: a uint64 does not survive JSON.parse's doubles
    const m = /"System-Identifier"\s*:\s*(\d+)/.exec(text);
    if (!m) throw damaged('version 2 manifest without System-Identifier');
    systemIdentifier = m[1];
  }
  const filesJson = json['Files'];
  if (!Array.isArray(filesJson)) throw damaged('missing "Files" array');
  const files = filesJson.map((f, i) => parseFile(f, i));
  const rangesJson = json['WAL-Ranges'] ?? [];
  if (!Array.isArray(rangesJson)) throw damaged('"WAL-Ranges" is not an array');
  const walRanges = rangesJson.map((r, i) => parseWalRange(r, i));
  const manifestChecksum = json['Manifest-Checksum'];
  if (typeof manifestChecksum !== 'string' || !/^[0-9a-fA-F]{64}$/.test(manifestChecksum)) {
    throw damaged('missing or malformed Manifest-Checksum');
  }
  if (options.verifyChecksum !== false) {
    const actual = computeManifestChecksum(raw);
    if (actual !== manifestChecksum.toLowerCase()) {
      throw damaged('Manifest-Checksum does not match the manifest text', { expected: manifestChecksum.toLowerCase(), actual });
    }
  }
  return {
    version,
    ...(systemIdentifier !== undefined ? { systemIdentifier } : {}),
    files,
    walRanges,
    manifestChecksum: manifestChecksum.toLowerCase(),
  };
}

function parseFile(f: unknown, i: number): ManifestFile {
  if (f === null || typeof f !== 'object') throw damaged(`file entry ${i} is not an object`);
  const o = f as Record<string, unknown>;
  let path: string;
  let pathBytes: Buffer | undefined;
  if (typeof o['Path'] === 'string') {
    path = o['Path'];
  } else if (typeof o['Encoded-Path'] === 'string' && /^([0-9a-fA-F]{2})+$/.test(o['Encoded-Path'])) {
    pathBytes = Buffer.from(o['Encoded-Path'], 'hex');
    path = pathBytes.toString('utf8');
  } else {
    throw damaged(`file entry ${i} has neither Path nor Encoded-Path`);
  }
  const size = o['Size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw damaged(`invalid Size for "${path}"`);
  const algorithm = (o['Checksum-Algorithm'] ?? 'NONE') as string;
  if (!ALGORITHMS.has(algorithm)) throw damaged(`unknown Checksum-Algorithm "${algorithm}" for "${path}"`);
  const checksum = o['Checksum'];
  if (algorithm !== 'NONE' && (typeof checksum !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(checksum))) {
    throw damaged(`missing or malformed Checksum for "${path}"`);
  }
  let lastModified: Date | undefined;
  if (typeof o['Last-Modified'] === 'string') {
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) GMT$/.exec(o['Last-Modified']);
    if (!m) throw damaged(`invalid Last-Modified for "${path}"`);
    lastModified = new Date(`${m[1]}T${m[2]}Z`);
  }
  return {
    path,
    ...(pathBytes ? { pathBytes } : {}),
    size,
    ...(lastModified ? { lastModified } : {}),
    checksumAlgorithm: algorithm as ManifestChecksumAlgorithm,
    ...(algorithm !== 'NONE' ? { checksum: (checksum as string).toLowerCase() } : {}),
  };
}

function parseWalRange(r: unknown, i: number): ManifestWalRange {
  const o = (r ?? {}) as Record<string, unknown>;
  const tli = o['Timeline'];
  const start = o['Start-LSN'];
  const end = o['End-LSN'];
  if (typeof tli !== 'number' || !Number.isInteger(tli) || tli < 1) throw damaged(`WAL range ${i}: invalid Timeline`);
  if (typeof start !== 'string' || !isLsnText(start)) throw damaged(`WAL range ${i}: invalid Start-LSN`);
  if (typeof end !== 'string' || !isLsnText(end)) throw damaged(`WAL range ${i}: invalid End-LSN`);
  return { timeline: tli, startLsn: parseLsn(start), endLsn: parseLsn(end) };
}

/**
 * Compare what a backup stored against the server's backup_manifest: every listed file present,
 * same size, same SHA-256 (we request MANIFEST_CHECKSUMS 'SHA256' so our own hash of each file
 * compares directly), and nothing extra. No I/O.
 */
import { PgkeepError } from '../../errors.js';
import type { BackupManifest } from './backup-manifest.js';

export interface StoredFileFacts {
  size: number;
  /** Lower- or upper-case hex SHA-256 of the stored content, when known. */
  sha256hex?: string;
}

export interface ManifestMismatch<T> {
  path: string;
  expected: T;
  actual: T;
}

export interface ManifestVerification {
  /** True when nothing is missing, extra or different. */
  ok: boolean;
  /** Files whose size and checksum were both compared. */
  checked: number;
  /** In the manifest but not stored. */
  missing: string[];
  /** Stored but not in the manifest (minus the ignored ones). */
  extra: string[];
  sizeMismatches: ManifestMismatch<number>[];
  checksumMismatches: ManifestMismatch<string>[];
  /** Sizes matched but the checksum could not be compared (algorithm not SHA256, or no stored hash). */
  notChecksummed: string[];
}

export interface VerifyManifestOptions {
  /**
   * Stored paths that are not expected in the manifest. Default: `backup_manifest` itself and
   * everything under `pg_wal/` (WAL included in a backup is not listed), as pg_verifybackup does.
   */
  ignoreExtra?: (path: string) => boolean;
}

export function defaultIgnoreExtra(path: string): boolean {
  return path === 'backup_manifest' || path === 'pg_wal' || path.startsWith('pg_wal/');
}

/**
 * Verify stored regular files (path relative to the data directory, tablespace files as
 * `pg_tblspc/<oid>/...`) against the manifest's Files list.
 */
export function verifyManifestEntries(
  manifest: BackupManifest,
  stored: ReadonlyMap<string, StoredFileFacts>,
  options: VerifyManifestOptions = {},
): ManifestVerification {
  const ignore = options.ignoreExtra ?? defaultIgnoreExtra;
  const r: ManifestVerification = {
    ok: true,
    checked: 0,
    missing: [],
    extra: [],
    sizeMismatches: [],
    checksumMismatches: [],
    notChecksummed: [],
  };
  const listed = new Set<string>();
  for (const f of manifest.files) {
    listed.add(f.path);
    const s = stored.get(f.path);
    if (!s) {
      r.missing.push(f.path);
      continue;
    }
    if (s.size !== f.size) {
      r.sizeMismatches.push({ path: f.path, expected: f.size, actual: s.size });
      continue;
    }
    if (f.checksumAlgorithm !== 'SHA256' || !f.checksum || !s.sha256hex) {
      r.notChecksummed.push(f.path);
      continue;
    }
    const actual = s.sha256hex.toLowerCase();
    if (actual !== f.checksum) r.checksumMismatches.push({ path: f.path, expected: f.checksum, actual });
    else r.checked++;
  }
  for (const path of stored.keys()) if (!listed.has(path) && !ignore(path)) r.extra.push(path);
  r.ok = r.missing.length + r.extra.length + r.sizeMismatches.length + r.checksumMismatches.length === 0;
  return r;
}

/** Throws DATA_INTEGRITY naming the first problems when the verification found any. */
export function assertManifestVerified(v: ManifestVerification, what = 'the backup'): void {
  if (v.ok) return;
  const parts: string[] = [];
  const few = (xs: string[]): string => xs.slice(0, 5).join(', ') + (xs.length > 5 ? ` and ${xs.length - 5} more` : '');
  if (v.missing.length) parts.push(`${v.missing.length} missing (${few(v.missing)})`);
  if (v.extra.length) parts.push(`${v.extra.length} not in the manifest (${few(v.extra)})`);
  if (v.sizeMismatches.length) parts.push(`${v.sizeMismatches.length} with a different size (${few(v.sizeMismatches.map((m) => m.path))})`);
  if (v.checksumMismatches.length)
    parts.push(`${v.checksumMismatches.length} with a different checksum (${few(v.checksumMismatches.map((m) => m.path))})`);
  throw new PgkeepError('DATA_INTEGRITY', `${what} does not match the server's backup_manifest: ${parts.join('; ')}`, {
    hint: 'the files stored differ from what the server sent; take a new backup and check the repository (pgkeep verify)',
    details: {
      missing: v.missing.slice(0, 100),
      extra: v.extra.slice(0, 100),
      sizeMismatches: v.sizeMismatches.slice(0, 100),
      checksumMismatches: v.checksumMismatches.slice(0, 100),
    },
  });
}

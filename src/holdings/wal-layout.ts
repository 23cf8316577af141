/**
 * Where WAL files live in the repository (format version 1, DESIGN.md §3):
 *
 *   wal/<cluster>/<system id>/<timeline+log, 16 hex>/<segment>[.partial]
 *   wal/<cluster>/<system id>/<timeline+log, 16 hex>/<segment>.<offset>.backup
 *   wal/<cluster>/<system id>/<timeline>.history
 *
 * These are logical object names: the repository appends `.<codec>[.enc]`. Grouping segments by
 * timeline and log keeps listings short; history files sit at the top so a restore finds every
 * timeline with one small listing. Pure functions, no I/O.
 */
import { PgkeepError } from '../errors.js';
import { parseWalFileName, type WalFileName } from '../pg/wal-name.js';

const SYSID_RE = /^\d{1,20}$/;

/** Prefix of every WAL object of every cluster. */
export const WAL_PREFIX = 'wal/';

/** Prefix of every WAL object of a cluster (all system identifiers). */
export function walClusterPrefix(cluster: string): string {
  return `${WAL_PREFIX}${cluster}/`;
}

/** Prefix of every WAL object of one system (one initdb) of a cluster. */
export function walSystemPrefix(cluster: string, systemId: string): string {
  checkSystemId(systemId);
  return `wal/${cluster}/${systemId}/`;
}

/** Object name of a WAL file (segment, .partial, .backup or .history). */
export function walObjectName(cluster: string, systemId: string, file: string | WalFileName): string {
  const f = typeof file === 'string' ? parseWalFileName(file) : file;
  const base = walSystemPrefix(cluster, systemId);
  if (f.kind === 'history') return `${base}${f.name}`;
  return `${base}${f.name.slice(0, 16)}/${f.name}`;
}

export interface WalObjectRef {
  cluster: string;
  systemId: string;
  file: WalFileName;
}

/** The parts of a WAL object name, or undefined when the name is not one (foreign objects are skipped). */
export function parseWalObjectName(name: string): WalObjectRef | undefined {
  const parts = name.split('/');
  if (parts[0] !== 'wal' || (parts.length !== 4 && parts.length !== 5)) return undefined;
  const [, cluster, systemId] = parts as [string, string, string];
  if (!SYSID_RE.test(systemId)) return undefined;
  const fileName = parts[parts.length - 1]!;
  let file: WalFileName;
  try {
    file = parseWalFileName(fileName);
  } catch {
    return undefined;
  }
  if (file.kind === 'history' ? parts.length !== 4 : parts.length !== 5 || parts[3] !== fileName.slice(0, 16)) return undefined;
  return { cluster, systemId, file };
}

export function checkSystemId(systemId: string): void {
  if (!SYSID_RE.test(systemId) || BigInt(systemId) > 0xffff_ffff_ffff_ffffn) {
    throw new PgkeepError('INTERNAL', `invalid system identifier "${systemId}"`);
  }
}

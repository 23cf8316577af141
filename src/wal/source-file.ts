/**
 * Reading the file archive_command hands over (%p): resolve its path, read it, and find the system
 * identifier it belongs to — from the segment's own page header, or for .history and .backup
 * files (plain text) from the data directory's global/pg_control.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { PgkeepError } from '../errors.js';
import { parseWalFileName, segmentNumberOf, type WalFileName } from '../pg/wal-name.js';
import { segmentStartLsn, formatLsn } from '../pg/lsn.js';
import { readSegmentHeader, systemIdFromPgControl, type WalSegmentHeader } from '../pg/wal/identify.js';

export interface WalSourceFile {
  path: string;
  file: WalFileName;
  data: Buffer;
  /** Page header (segments and .partial files). */
  header?: WalSegmentHeader;
  /** From the page header, or pg_control of the data directory; undefined when neither says. */
  systemIdentifier?: string;
}

export interface ReadWalSourceOptions {
  /** Directory relative paths are resolved against (the archiver runs in the data directory). */
  cwd?: string;
  /** The configured data directory: second place for relative paths and pg_control. */
  pgdata?: string;
}

export async function readWalSource(path: string, opts: ReadWalSourceOptions = {}): Promise<WalSourceFile> {
  const file = parseWalFileName(basename(path));
  const candidates = isAbsolute(path)
    ? [path]
    : [resolve(opts.cwd ?? process.cwd(), path), ...(opts.pgdata ? [resolve(opts.pgdata, path)] : [])];
  let data: Buffer | undefined;
  let used = candidates[0]!;
  for (const c of candidates) {
    try {
      data = await readFile(c);
      used = c;
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && c !== candidates[candidates.length - 1]) continue;
      throw new PgkeepError(code === 'ENOENT' ? 'NOT_FOUND' : 'REPOSITORY', `cannot read WAL file ${c}: ${code ?? (e as Error).message}`, {
        hint:
          code === 'ENOENT'
            ? 'archive_command passes %p relative to the data directory; run pgkeep from there or give an absolute path'
            : "pgkeep runs as the server's OS user from archive_command: check that it can read pg_wal",
      });
    }
  }
  const out: WalSourceFile = { path: used, file, data: data! };
  if (file.kind === 'segment' || file.kind === 'partial') {
    out.header = readSegmentHeader(out.data, `${file.name} (${used})`);
    checkSegmentMatchesName(out.header, file, out.data.length, used);
    out.systemIdentifier = out.header.systemIdentifier;
  } else {
    out.systemIdentifier = await systemIdOfDataDir([opts.cwd ?? process.cwd(), dirname(dirname(used)), opts.pgdata]);
  }
  return out;
}

function checkSegmentMatchesName(h: WalSegmentHeader, file: WalFileName, size: number, path: string): void {
  const expected = segmentStartLsn(segmentNumberOf(file, h.segmentSize), h.segmentSize);
  if (h.pageAddress !== expected) {
    throw new PgkeepError(
      'DATA_INTEGRITY',
      `${path} does not hold segment ${file.name}: its first page is at ` +
        `${formatLsn(h.pageAddress)}, the name says ${formatLsn(expected)}`,
      {
        hint: 'a WAL file was renamed or overwritten; do not archive it under this name',
      },
    );
  }
  if (file.kind === 'segment' && size !== h.segmentSize) {
    throw new PgkeepError('DATA_INTEGRITY', `${path} has ${size} bytes, but WAL segments of this cluster have ${h.segmentSize}`, {
      hint: 'the file is truncated or still being written; PostgreSQL only archives complete segments',
    });
  }
}

/** System identifier from the first data directory (in order) that has a readable global/pg_control. */
export async function systemIdOfDataDir(dirs: (string | undefined)[]): Promise<string | undefined> {
  for (const d of dirs) {
    if (!d) continue;
    try {
      return systemIdFromPgControl(await readFile(join(d, 'global', 'pg_control')));
    } catch {
      // not a data directory (or not readable): try the next one
    }
  }
  return undefined;
}

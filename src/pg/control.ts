/**
 * What the cluster's control file (global/pg_control) says — system identifier, cluster state
 * (was it shut down cleanly?), latest checkpoint, WAL settings at the last start.
 * `readControlData` reads the file itself (control-file.ts, CRC-checked) and runs pg_controldata
 * of the data directory's major only for a pg_control version it does not know;
 * `parseControlData` is the pure parser of pg_controldata's output.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgkeepError } from '../errors.js';
import { findPgTool } from './bin.js';
import { parseControlFile } from './control-file.js';

const execFileP = promisify(execFile);

/** The states pg_controldata prints for "Database cluster state". */
export type ClusterState =
  | 'starting up'
  | 'shut down'
  | 'shut down in recovery'
  | 'shutting down'
  | 'in crash recovery'
  | 'in archive recovery'
  | 'in production'
  | string;

export interface ControlData {
  /** Every "key: value" line as printed (keys as in the C locale; older majors' labels renamed). */
  fields: Record<string, string>;
  /** WARNING paragraphs pg_controldata printed (a CRC mismatch: the values are untrustworthy). */
  warnings: string[];
  /** The control file's CRC does not match its content. */
  crcMismatch: boolean;
  pgControlVersion?: number;
  catalogVersion?: string;
  /** 64-bit, kept as a decimal string (as pg_control_system() shows it). */
  systemIdentifier?: string;
  clusterState?: ClusterState;
  /** True only for a clean shutdown ("shut down" or "shut down in recovery"). */
  cleanlyShutDown: boolean;
  latestCheckpoint?: string;
  redoLocation?: string;
  redoWalFile?: string;
  timeline?: number;
  walLevel?: string;
  /** 0 when the cluster has no data checksums. */
  dataChecksumVersion?: number;
  blockSize?: number;
  walSegmentSize?: number;
}

/** Labels older majors print for a field, under the name pgkeep reads (9.4 and older: "Current wal_level setting"). */
const OLD_LABELS: Record<string, string> = {
  'Current wal_level setting': 'wal_level setting',
};

/** The environment pg_controldata runs in: its labels are translated in other locales. */
export const CONTROLDATA_ENV = { LC_ALL: 'C', LANG: 'C', LANGUAGE: '' } as const;

/**
 * Parse pg_controldata's output (run with CONTROLDATA_ENV). Lines are "label: value", the value
 * may hold colons, and a long label is glued to its value ("...oldestCommitTsXid:0"). A control
 * file whose CRC does not match makes it print a WARNING paragraph first: kept as a warning (and
 * crcMismatch), never as a field. Output without "pg_control version number" is not
 * pg_controldata's in the C locale: refused, as TOOL_MISSING.
 */
export function parseControlData(text: string): ControlData {
  const fields: Record<string, string> = {};
  const warnings: string[] = [];
  let inWarning = false;
  for (const line of text.split(/\r?\n/)) {
    const warning = /^WARNING:\s*(.*)$/.exec(line);
    if (warning) {
      warnings.push(warning[1]!.trim());
      inWarning = true;
      continue;
    }
    if (inWarning && line.trim() !== '') {
      warnings[warnings.length - 1] += ` ${line.trim()}`;
      continue;
    }
    inWarning = false;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const label = line.slice(0, i).trim();
    fields[OLD_LABELS[label] ?? label] = line.slice(i + 1).trim();
  }
  if (fields['pg_control version number'] === undefined) {
    throw new PgkeepError(
      'TOOL_MISSING',
      'pg_controldata printed no "pg_control version number" line: its output is not ' +
        `PostgreSQL's pg_controldata in the C locale (LC_ALL=C) (first line: "${text.trim().split('\n')[0]?.slice(0, 80) ?? ''}")`,
      {
        hint: "check that pg_controldata (PGKEEP_PG_BIN / pg_bin) is the PostgreSQL program of the data directory's major version",
      },
    );
  }
  return controlDataFromFields(fields, warnings);
}

/** ControlData from pg_controldata's "key: value" fields (as printed, or as control-file.ts gives them). */
export function controlDataFromFields(fields: Record<string, string>, warnings: string[] = []): ControlData {
  const num = (k: string): number | undefined => {
    const v = fields[k];
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
  };
  const state = fields['Database cluster state'];
  return {
    fields,
    warnings,
    crcMismatch: warnings.some((w) => /CRC/.test(w)),
    pgControlVersion: num('pg_control version number'),
    catalogVersion: fields['Catalog version number'],
    systemIdentifier: fields['Database system identifier'],
    clusterState: state,
    cleanlyShutDown: state === 'shut down' || state === 'shut down in recovery',
    latestCheckpoint: fields['Latest checkpoint location'],
    redoLocation: fields["Latest checkpoint's REDO location"],
    redoWalFile: fields["Latest checkpoint's REDO WAL file"],
    timeline: num("Latest checkpoint's TimeLineID"),
    walLevel: fields['wal_level setting'],
    dataChecksumVersion: num('Data page checksum version'),
    blockSize: num('Database block size'),
    walSegmentSize: num('Bytes per WAL segment'),
  };
}

/** The major version written in PGDATA/PG_VERSION ("15"), or throw NOT_FOUND. */
export function dataDirMajor(pgdata: string): number {
  let text: string;
  try {
    text = readFileSync(join(pgdata, 'PG_VERSION'), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES') {
      throw new PgkeepError('CONFIG', `cannot read ${pgdata}: permission denied`, {
        hint: 'run pgkeep as the OS user that owns the data directory (usually postgres), or give this user read access',
        cause: e,
      });
    }
    throw new PgkeepError('NOT_FOUND', `${pgdata} is not a PostgreSQL data directory (no PG_VERSION file)`, {
      hint:
        'set pgdata (or --pgdata) to the directory that holds PG_VERSION, global/ and base/; ' +
        'the server shows it with SHOW data_directory',
      cause: e,
    });
  }
  const major = Number(text.trim().split('.')[0]);
  if (!Number.isInteger(major) || major <= 0) {
    throw new PgkeepError('NOT_FOUND', `${pgdata}/PG_VERSION does not hold a version ("${text.trim()}")`);
  }
  return major;
}

const CRC_RETRIES = 5;

/**
 * global/pg_control of `pgdata`, read and CRC-checked; undefined for a pg_control version
 * control-file.ts does not know. A CRC mismatch is read again a few times (the server may have
 * been writing it), then DATA_INTEGRITY.
 */
export async function readControlFile(pgdata: string, signal?: AbortSignal): Promise<ControlData | undefined> {
  const file = join(pgdata, 'global', 'pg_control');
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    let buf: Buffer;
    try {
      buf = await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        throw new PgkeepError('CONFIG', `cannot read ${file}: permission denied`, {
          hint: 'run pgkeep as the OS user that owns the data directory (usually postgres), or give this user read access',
          cause: e,
        });
      }
      throw new PgkeepError('NOT_FOUND', `${pgdata} has no readable global/pg_control (${code ?? (e as Error).message})`, {
        hint: 'set pgdata (or --pgdata) to the data directory of the cluster',
        cause: e,
      });
    }
    const r = parseControlFile(buf);
    if (r.ok) return controlDataFromFields(r.fields);
    if (r.reason === 'unknown-version') return undefined;
    if (attempt >= CRC_RETRIES) {
      throw new PgkeepError(
        'DATA_INTEGRITY',
        `${file} is damaged: ${r.reason === 'crc' ? 'its CRC does not match its contents' : 'it is too short'}`,
        {
          hint: 'the cluster cannot start with a damaged control file; restore it from a backup (pgkeep restore) — do not run pg_resetwal unless you accept losing data',
          details: { file, pgControlVersion: r.pgControlVersion },
        },
      );
    }
    await new Promise((res) => setTimeout(res, 20));
  }
}

/**
 * What global/pg_control of `pgdata` says: read by pgkeep for the pg_control versions it knows,
 * else by pg_controldata of the data directory's major version.
 */
export async function readControlData(pgdata: string, opts: { pgBin?: string; signal?: AbortSignal } = {}): Promise<ControlData> {
  const major = dataDirMajor(pgdata);
  const native = await readControlFile(pgdata, opts.signal);
  if (native) return native;
  const tool = await findPgTool('pg_controldata', { exactMajor: major, pgBin: opts.pgBin });
  let stdout: string;
  try {
    ({ stdout } = await execFileP(tool.path, ['-D', pgdata], {
      env: { ...process.env, ...CONTROLDATA_ENV },
      timeout: 30000,
      signal: opts.signal,
    }));
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? (e as Error).message).trim();
    throw new PgkeepError('CONFIG', `pg_controldata could not read ${pgdata}: ${stderr.split('\n')[0]}`, {
      hint: 'check that pgdata points at a data directory this user can read',
      cause: e,
    });
  }
  return parseControlData(stdout);
}

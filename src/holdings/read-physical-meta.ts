/**
 * The one reader of a physical snapshot's meta: every command that uses what a physical backup
 * recorded (restore, verify, show, list, wal check, expire, restore-table) gets it from here,
 * parsed and checked field by field, never cast. A meta that is not what `pgkeep backup` writes
 * (a damaged or hand-edited manifest, a snapshot written by something else) is a DATA_INTEGRITY
 * error naming the snapshot and the field, before anything is planned from it.
 *
 * Parsed once: the result is kept per manifest object, so readers that meet the same manifest
 * again (plan, then restore) do not parse it twice.
 */
import { PgkeepError } from '../errors.js';
import type { SnapshotManifest } from '../repo/index.js';
import type { ExternalConfig, ExternalConfigFile, PhysicalBackupMeta, TablespaceInfo } from './physical-meta.js';

/** What the reader needs of a manifest (a SnapshotManifest or a Snapshot). */
export type MetaSource = Pick<SnapshotManifest, 'id' | 'cluster' | 'meta'>;

const parsed = new WeakMap<object, PhysicalBackupMeta>();

const METHODS = ['stream', 'local', 'cold'] as const;
const CONFIG_ROLES = ['config_file', 'hba_file', 'ident_file', 'include'] as const;
const LSN_RE = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;
/** A WAL segment name, or "" (a cold backup needs none). */
const SEGMENT_OR_EMPTY = /^(?:[0-9A-F]{24})?$/i;
const SYSID_RE = /^\d{1,20}$/;

/** The meta of physical snapshot `m`, checked; DATA_INTEGRITY naming the snapshot and the field when it is not right. */
export function readPhysicalMeta(m: MetaSource): PhysicalBackupMeta {
  const raw: unknown = m.meta;
  if (raw !== null && typeof raw === 'object') {
    const known = parsed.get(raw);
    if (known) return known;
  }
  const meta = parseMeta(new Fields(m, raw, ''));
  if (raw !== null && typeof raw === 'object') parsed.set(raw, meta);
  return meta;
}

/** Reads one object's fields, naming the field (with its path) in the error. */
class Fields {
  private readonly obj: Record<string, unknown>;

  constructor(private readonly m: MetaSource, value: unknown, private readonly path: string) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw damaged(m, path || 'meta', 'is not an object');
    this.obj = value as Record<string, unknown>;
  }

  private fail(name: string, why: string): PgkeepError {
    return damaged(this.m, this.path + name, why);
  }

  private value(name: string): unknown {
    const v = this.obj[name];
    if (v === undefined) throw this.fail(name, 'is missing');
    return v;
  }

  string(name: string, re?: RegExp, what?: string): string {
    const v = this.value(name);
    if (typeof v !== 'string') throw this.fail(name, `is not a string (${describe(v)})`);
    if (re && !re.test(v)) throw this.fail(name, `is not ${what} ("${v.slice(0, 40)}")`);
    return v;
  }

  optionalString(name: string): string | undefined {
    return this.obj[name] === undefined ? undefined : this.string(name);
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.string(name);
    if (!(values as readonly string[]).includes(v)) throw this.fail(name, `is "${v}", not one of ${values.join(', ')}`);
    return v as T;
  }

  boolean(name: string): boolean {
    const v = this.value(name);
    if (typeof v !== 'boolean') throw this.fail(name, `is not true or false (${describe(v)})`);
    return v;
  }

  integer(name: string, min: number): number {
    const v = this.value(name);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw this.fail(name, `is not an integer of at least ${min} (${describe(v)})`);
    return v;
  }

  /** A WAL segment size: a power of two from 1 MB to 1 GB (initdb --wal-segsize). */
  segmentSize(name: string): number {
    const v = this.integer(name, 1 << 20);
    if ((v & (v - 1)) !== 0 || v > 1 << 30) throw this.fail(name, `is not a WAL segment size (${v})`);
    return v;
  }

  time(name: string): string {
    const v = this.string(name);
    if (Number.isNaN(Date.parse(v))) throw this.fail(name, `is not a time ("${v.slice(0, 40)}")`);
    return v;
  }

  array<T>(name: string, item: (f: Fields) => T): T[] {
    const v = this.value(name);
    if (!Array.isArray(v)) throw this.fail(name, `is not a list (${describe(v)})`);
    return v.map((x, i) => item(new Fields(this.m, x, `${this.path}${name}[${i}].`)));
  }

  strings(name: string): string[] {
    const v = this.value(name);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw this.fail(name, 'is not a list of strings');
    return v as string[];
  }

  object(name: string): Fields {
    return new Fields(this.m, this.value(name), `${this.path}${name}.`);
  }

  has(name: string): boolean {
    return this.obj[name] !== undefined;
  }

  numbers(name: string): Record<string, number> {
    const f = this.object(name);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(f.obj)) {
      if (typeof v !== 'number') throw f.fail(k, `is not a number (${describe(v)})`);
      out[k] = v;
    }
    return out;
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

function damaged(m: MetaSource, field: string, why: string): PgkeepError {
  return new PgkeepError('DATA_INTEGRITY',
    `snapshot ${m.id} of cluster "${m.cluster}" has a damaged record of its backup: field "${field}" ${why}`, {
      hint: 'this snapshot cannot be used safely (its manifest decoded, but not as pgkeep writes it): ' +
        'run "pgkeep repo check", and restore from another backup',
      details: { snapshot: m.id, cluster: m.cluster, field },
    });
}

function parseMeta(f: Fields): PhysicalBackupMeta {
  const meta: PhysicalBackupMeta = {
    method: f.oneOf('method', METHODS),
    label: f.string('label'),
    standalone: f.boolean('standalone'),
    systemIdentifier: f.string('systemIdentifier', SYSID_RE, 'a system identifier'),
    serverVersion: f.string('serverVersion'),
    serverVersionNum: f.integer('serverVersionNum', 1),
    timeline: f.integer('timeline', 1),
    startLsn: f.string('startLsn', LSN_RE, 'an LSN'),
    stopLsn: f.string('stopLsn', LSN_RE, 'an LSN'),
    startTime: f.time('startTime'),
    stopTime: f.time('stopTime'),
    walSegmentSize: f.segmentSize('walSegmentSize'),
    walStart: f.string('walStart', SEGMENT_OR_EMPTY, 'a WAL segment name'),
    walEnd: f.string('walEnd', SEGMENT_OR_EMPTY, 'a WAL segment name'),
    tablespaces: f.array('tablespaces', tablespace),
    dataChecksums: f.boolean('dataChecksums'),
    serverManifest: f.boolean('serverManifest'),
  };
  const backupLabel = f.optionalString('backupLabel');
  if (backupLabel !== undefined) meta.backupLabel = backupLabel;
  const tablespaceMap = f.optionalString('tablespaceMap');
  if (tablespaceMap !== undefined) meta.tablespaceMap = tablespaceMap;
  if (f.has('externalConfig')) meta.externalConfig = externalConfig(f.object('externalConfig'));
  const incrementalFrom = f.optionalString('incrementalFrom');
  if (incrementalFrom !== undefined) meta.incrementalFrom = incrementalFrom;
  if (f.has('stats')) meta.stats = f.numbers('stats');
  return meta;
}

function tablespace(f: Fields): TablespaceInfo {
  return { oid: f.string('oid', /^\d+$/, 'an OID'), location: f.string('location') };
}

function externalConfig(f: Fields): ExternalConfig {
  const out: ExternalConfig = {
    dataDirectory: f.string('dataDirectory'),
    files: f.array('files', configFile),
    includeDirs: f.strings('includeDirs'),
  };
  if (f.has('locations')) {
    const l = f.object('locations');
    out.locations = { configFile: l.string('configFile'), hbaFile: l.string('hbaFile'), identFile: l.string('identFile') };
  }
  return out;
}

function configFile(f: Fields): ExternalConfigFile {
  const file: ExternalConfigFile = { role: f.oneOf('role', CONFIG_ROLES), path: f.string('path') };
  const text = f.optionalString('text');
  if (text !== undefined) file.text = text;
  const error = f.optionalString('error');
  if (error !== undefined) file.error = error;
  return file;
}

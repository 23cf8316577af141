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
import { Fields, parseOnce, type MetaSource } from './meta-fields.js';
import type { ExternalConfig, ExternalConfigFile, PhysicalBackupMeta, TablespaceInfo } from './physical-meta.js';

export type { MetaSource } from './meta-fields.js';

const parsed = new WeakMap<object, PhysicalBackupMeta>();

const METHODS = ['stream', 'local', 'cold'] as const;
const CONFIG_ROLES = ['config_file', 'hba_file', 'ident_file', 'include'] as const;
const LSN_RE = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/i;
/** A WAL segment name, or "" (a cold backup needs none). */
const SEGMENT_OR_EMPTY = /^(?:[0-9A-F]{24})?$/i;
const SYSID_RE = /^\d{1,20}$/;

/** The meta of physical snapshot `m`, checked; DATA_INTEGRITY naming the snapshot and the field when it is not right. */
export function readPhysicalMeta(m: MetaSource): PhysicalBackupMeta {
  return parseOnce(parsed, m.meta, () => parseMeta(new Fields(m, m.meta, '')));
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

/**
 * The one reader of a logical snapshot's meta (what `pgkeep dump` recorded under `dump`): list,
 * show, verify and restore-dump get it from here, checked field by field like the physical meta
 * (read-physical-meta.ts), never cast. A meta that is not what `pgkeep dump` writes is a
 * DATA_INTEGRITY error naming the snapshot and the field ("dump.databases[0].format"). Parsed
 * once per manifest.
 */
import { COMPRESSORS, DUMP_FORMATS, DUMP_SCOPES, type DumpedDatabase, type DumpMeta, type Toc, type TocEntry } from './dump-meta.js';
import { Fields, parseOnce, type MetaSource } from './meta-fields.js';

const parsed = new WeakMap<object, DumpMeta>();

/** The dump meta of logical snapshot `m`, checked; DATA_INTEGRITY naming the snapshot and the field when it is not right. */
export function readDumpMeta(m: MetaSource): DumpMeta {
  return parseOnce(parsed, m.meta, () => parseDump(new Fields(m, m.meta, '').object('dump')));
}

function parseDump(f: Fields): DumpMeta {
  f.integerOf('version', [1]);
  const o = f.object('options');
  const meta: DumpMeta = {
    version: 1,
    scope: f.oneOf('scope', DUMP_SCOPES),
    format: f.oneOf('format', DUMP_FORMATS),
    pgDumpVersion: f.string('pgDumpVersion'),
    serverVersion: f.string('serverVersion'),
    serverVersionNum: f.integer('serverVersionNum', 1),
    source: f.string('source'),
    options: {
      schemas: o.strings('schemas'),
      tables: o.strings('tables'),
      excludeTables: o.strings('excludeTables'),
      schemaOnly: o.boolean('schemaOnly'),
      dataOnly: o.boolean('dataOnly'),
      jobs: o.integer('jobs', 1),
      compressedBy: o.oneOf('compressedBy', COMPRESSORS),
    },
    databases: f.array('databases', database),
  };
  if (f.has('globals')) {
    const g = f.object('globals');
    meta.globals = { path: g.string('path'), bytes: g.integer('bytes', 0), noRolePasswords: g.boolean('noRolePasswords') };
  }
  return meta;
}

function database(f: Fields): DumpedDatabase {
  const db: DumpedDatabase = {
    name: f.string('name'),
    format: f.oneOf('format', DUMP_FORMATS),
    path: f.string('path'),
    files: f.integer('files', 0),
    bytes: f.integer('bytes', 0),
  };
  if (f.has('toc')) db.toc = toc(f.object('toc'));
  const tocNote = f.optionalString('tocNote');
  if (tocNote !== undefined) db.tocNote = tocNote;
  const creates = f.optional('createsDatabase', (n) => f.boolean(n));
  if (creates !== undefined) db.createsDatabase = creates;
  return db;
}

const HEADER_STRINGS = ['archiveCreated', 'dbname', 'compression', 'dumpVersion', 'format', 'serverVersion', 'pgDumpVersion'] as const;

function toc(f: Fields): Toc {
  const h = f.object('header');
  const header: Toc['header'] = {};
  for (const name of HEADER_STRINGS) {
    const v = h.optionalString(name);
    if (v !== undefined) header[name] = v;
  }
  const entryCount = h.optional('entryCount', (n) => h.integer(n, 0));
  if (entryCount !== undefined) header.entryCount = entryCount;
  return { header, entries: f.array('entries', tocEntry) };
}

function tocEntry(f: Fields): TocEntry {
  const e: TocEntry = {
    dumpId: f.integer('dumpId', 0),
    tableOid: f.integer('tableOid', 0),
    oid: f.integer('oid', 0),
    type: f.string('type'),
    name: f.string('name'),
    owner: f.string('owner'),
    deps: f.integers('deps', 0),
  };
  const schema = f.optionalString('schema');
  if (schema !== undefined) e.schema = schema;
  return e;
}

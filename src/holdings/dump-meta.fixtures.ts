/** A complete dump meta as `pgkeep dump` writes it, for tests that commit logical snapshots by hand. */
import type { DumpMeta } from './dump-meta.js';

export function dumpMetaFixture(over: Partial<DumpMeta> = {}): DumpMeta {
  return {
    version: 1,
    scope: 'database',
    format: 'custom',
    pgDumpVersion: '15.8',
    serverVersion: '15.8',
    serverVersionNum: 150008,
    source: 'host=/var/run/postgresql port=5432 user=postgres',
    options: { schemas: [], tables: [], excludeTables: [], schemaOnly: false, dataOnly: false, jobs: 1, compressedBy: 'repository' },
    databases: [
      {
        name: 'shop',
        format: 'custom',
        path: 'databases/shop.dump',
        files: 1,
        bytes: 2048,
        toc: {
          header: { dbname: 'shop', entryCount: 2, format: 'CUSTOM' },
          entries: [
            { dumpId: 215, tableOid: 1259, oid: 16385, type: 'TABLE', schema: 'public', name: 'orders', owner: 'postgres', deps: [] },
            { dumpId: 3350, tableOid: 0, oid: 0, type: 'TABLE DATA', schema: 'public', name: 'orders', owner: 'postgres', deps: [215] },
          ],
        },
      },
    ],
    ...over,
  };
}

/** The manifest meta of a logical snapshot as the repository stores it (a JSON object, the dump meta under `dump`). */
export function dumpMetaRecord(over: Partial<DumpMeta> = {}): Record<string, unknown> {
  return JSON.parse(JSON.stringify({ dump: dumpMetaFixture(over) })) as Record<string, unknown>;
}

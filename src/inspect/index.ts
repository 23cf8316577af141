/**
 * `pgkeep inspect`: what is in the cluster, read from the system catalogs. Steps: connect,
 * read the server and its settings, the shared catalogs (databases, roles), then connect to
 * each database in turn for its objects — or, with a table name, that table's columns.
 */
import type { ClusterSettings } from '../config/types.js';
import { PgkeepError } from '../errors.js';
import { listDatabases, listRoles, readSettings, serverInfo, type DatabaseInfo } from '../pg/catalog.js';
import { connect, describeConnection, resolveConnection, withClient } from '../pg/connect.js';
import { CATALOG_NOTES } from './explain.js';
import { readDatabaseObjects } from './objects.js';
import { readTableDetail } from './table.js';
import type { InspectReport, SkippedDatabase } from './types.js';

export interface InspectOptions {
  /** Only this database's objects (and the database --table is looked up in). */
  database?: string;
  /** Show this table's columns instead of the whole cluster. */
  table?: string;
  /** Also list the objects of template databases. */
  includeTemplates?: boolean;
  /** Attach the catalog notes (--explain). */
  explain?: boolean;
  signal?: AbortSignal;
  /** Progress: called before each database is read. */
  onDatabase?: (database: string) => void;
}

export async function inspectCluster(settings: ClusterSettings, opts: InspectOptions = {}): Promise<InspectReport> {
  const target = describeConnection(resolveConnection(settings));
  const client = await connect(settings, { signal: opts.signal, applicationName: 'pgkeep inspect' });
  let report: InspectReport;
  try {
    const server = await serverInfo(client);
    report = { target, server, settings: await readSettings(client) };
    if (opts.table) {
      const database = opts.database ?? server.database;
      report.table =
        database === server.database
          ? await readTableDetail(client, database, opts.table)
          : await withClient(settings, { database, signal: opts.signal }, (c) => readTableDetail(c, database, opts.table!));
    } else {
      report.databases = await listDatabases(client);
      report.roles = await listRoles(client);
    }
  } finally {
    await client.end().catch(() => {});
  }
  if (report.databases) await readObjects(settings, report, opts);
  if (opts.explain) report.explain = CATALOG_NOTES;
  return report;
}

/** Which databases to read, and why the others are left out. */
export function chooseDatabases(
  databases: DatabaseInfo[],
  opts: Pick<InspectOptions, 'database' | 'includeTemplates'>,
): { read: string[]; skipped: SkippedDatabase[] } {
  if (opts.database) {
    const d = databases.find((x) => x.name === opts.database);
    if (!d) {
      throw new PgkeepError('NOT_FOUND', `database "${opts.database}" does not exist`, {
        hint: `existing databases: ${databases.map((x) => x.name).join(', ')}`,
        details: { database: opts.database },
      });
    }
    return { read: [d.name], skipped: [] };
  }
  const read: string[] = [];
  const skipped: SkippedDatabase[] = [];
  for (const d of databases) {
    if (d.isTemplate && !opts.includeTemplates) skipped.push({ database: d.name, reason: 'template (use --include-templates)' });
    else if (!d.allowConnections) skipped.push({ database: d.name, reason: 'does not allow connections (datallowconn = false)' });
    else if (!d.canConnect) skipped.push({ database: d.name, reason: 'no CONNECT privilege for this user' });
    else read.push(d.name);
  }
  return { read, skipped };
}

async function readObjects(settings: ClusterSettings, report: InspectReport, opts: InspectOptions): Promise<void> {
  const { read, skipped } = chooseDatabases(report.databases!, opts);
  report.objects = [];
  report.skipped = skipped;
  for (const database of read) {
    opts.onDatabase?.(database);
    try {
      report.objects.push(
        await withClient(settings, { database, signal: opts.signal, applicationName: 'pgkeep inspect' }, (c) =>
          readDatabaseObjects(c, database),
        ),
      );
    } catch (e) {
      if (!(e instanceof PgkeepError) || e.code === 'INTERRUPTED') throw e;
      skipped.push({ database, reason: e.message });
    }
  }
}

export { CATALOG_NOTES, type InspectSection } from './explain.js';
export type * from './types.js';

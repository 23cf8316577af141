/**
 * `pgkeep dump`: logical backups into the repository as one snapshot of kind 'logical'.
 *
 *   1. read the server's facts (version, databases, roles)
 *   2. find pg_dump / pg_restore (/ pg_dumpall) of the server's major or newer
 *   3. start the snapshot (shared repository lock)
 *   4. globals (--all, --globals): pg_dumpall --globals-only
 *   5. each database: pg_dump streamed into the snapshot, TOC read on the way
 *   6. commit with the meta (versions, options, TOCs); on any failure abort: nothing visible
 */
import { dirname } from 'node:path';
import { PgkeepError } from '../../errors.js';
import type { ClusterSettings } from '../../config/types.js';
import type { Repository } from '../../repo/repository.js';
import { describeConnection, resolveConnection } from '../../pg/connect.js';
import { findPgTool, type PgTool } from '../../pg/bin.js';
import { dumpNeed, findNeededTool } from '../tools/tool-needs.js';
import { libpqEnv, withDatabase } from '../tools/libpq-env.js';
import { GLOBALS_PATH, type DumpFormat, type DumpMeta, type DumpedDatabase } from '../meta.js';
import { readSchemas, readServerFacts, type ServerFacts } from './server-facts.js';
import { dumpDatabase } from './dump-database.js';
import { dumpGlobals } from './dump-globals.js';

export interface DumpOptions {
  repo: Repository;
  /** The cluster name snapshots are filed under. */
  clusterName: string;
  cluster: ClusterSettings;
  /** Database to dump (default: the connection's). */
  database?: string;
  schemas?: string[];
  tables?: string[];
  excludeTables?: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  format?: DumpFormat;
  /** Parallel pg_dump jobs (directory format). */
  jobs?: number;
  /** Every database plus roles and tablespaces. */
  all?: boolean;
  /** Roles and tablespaces only. */
  globals?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: DumpProgress) => void;
}

export interface DumpProgress {
  /** 'globals' or the database being dumped. */
  part: string;
  /** Bytes pg_dump produced for this part. */
  bytes: number;
  /** What pg_dump is doing ("dumping contents of table ..."). */
  step?: string;
  index: number;
  of: number;
}

export interface DumpResult {
  snapshotId: string;
  cluster: string;
  scope: DumpMeta['scope'];
  format: DumpFormat;
  databases: { name: string; bytes: number; entries?: number; tocNote?: string }[];
  globals?: { bytes: number; noRolePasswords: boolean };
  /** Bytes pg_dump wrote, and what the repository stored for them. */
  dumpBytes: number;
  storedBytes: number;
  pgDumpVersion: string;
  serverVersion: string;
  seconds: number;
  warnings: string[];
}

const ON_EVERY_CLUSTER = ['template1', 'postgres'];

function checkOptions(o: DumpOptions): DumpFormat {
  const format = o.format ?? 'custom';
  if (o.schemaOnly && o.dataOnly) throw new PgkeepError('USAGE', '--schema-only and --data-only exclude each other');
  if (o.all && o.globals) throw new PgkeepError('USAGE', '--all already includes --globals; give one of them');
  if ((o.all || o.globals) && o.database)
    throw new PgkeepError('USAGE', `--database cannot be combined with --${o.all ? 'all' : 'globals'}`);
  if (o.globals && (o.schemas?.length || o.tables?.length || o.excludeTables?.length || o.schemaOnly || o.dataOnly)) {
    throw new PgkeepError('USAGE', '--globals dumps roles and tablespaces only; it takes no object options');
  }
  if (o.jobs !== undefined && (!Number.isInteger(o.jobs) || o.jobs < 1))
    throw new PgkeepError('USAGE', '--jobs must be a whole number >= 1');
  if (o.jobs !== undefined && o.jobs > 1 && format !== 'directory') {
    throw new PgkeepError('USAGE', `--jobs needs --format directory (pg_dump writes ${format} archives with one process)`);
  }
  return format;
}

async function findTools(facts: ServerFacts, o: DumpOptions): Promise<{ pgDump: PgTool; pgRestore: PgTool; pgDumpAll?: PgTool }> {
  const pgDump = await findNeededTool(dumpNeed('pg_dump', facts.major), o.cluster.pgBin);
  // pg_restore must read what this pg_dump writes: prefer the same directory.
  const same = { minMajor: pgDump.major, pgBin: dirname(pgDump.path) };
  const pgRestore = await findPgTool('pg_restore', same);
  const pgDumpAll = o.all || o.globals ? await findPgTool('pg_dumpall', same) : undefined;
  return { pgDump, pgRestore, pgDumpAll };
}

export async function dump(o: DumpOptions): Promise<DumpResult> {
  const started = Date.now();
  const format = checkOptions(o);
  const scope: DumpMeta['scope'] = o.all ? 'all' : o.globals ? 'globals' : 'database';
  const params = resolveConnection(o.cluster, { database: o.database });
  const facts = await readServerFacts(o.cluster, { database: o.database, signal: o.signal });
  const tools = await findTools(facts, o);
  const compressedBy = o.repo.codec.name !== 'none' ? 'repository' : 'pg_dump';
  const databases = scope === 'all' ? facts.databases : scope === 'database' ? [facts.database] : [];
  const parts = databases.length + (scope === 'database' ? 0 : 1);
  const warnings: string[] = [];

  const writer = await o.repo.startSnapshot({
    cluster: o.clusterName,
    kind: 'logical',
    signal: o.signal,
    purpose: 'logical dump',
    onWarning: (m) => warnings.push(m),
  });
  try {
    let globals: DumpMeta['globals'];
    if (scope !== 'database') {
      o.onProgress?.({ part: 'globals', bytes: 0, index: 1, of: parts });
      const g = await dumpGlobals(tools.pgDumpAll!, libpqEnv(params), facts.database, o.signal);
      await writer.addFile({ path: GLOBALS_PATH, type: 'file', mode: 0o600, mtimeMs: Date.now() }, g.sql);
      globals = { path: GLOBALS_PATH, bytes: g.sql.length, noRolePasswords: g.noRolePasswords };
      if (g.noRolePasswords) {
        warnings.push(
          'role passwords were not dumped: this role cannot read pg_authid (dumped with --no-role-passwords); set them again after a restore',
        );
      }
    }
    const dumped: DumpedDatabase[] = [];
    for (const [i, db] of databases.entries()) {
      o.signal?.throwIfAborted();
      const index = i + 1 + (scope === 'all' ? 1 : 0);
      const hints = { schemas: await readSchemas(o.cluster, db, o.signal), owners: facts.roles };
      let step: string | undefined;
      let bytes = 0;
      const report = () => o.onProgress?.({ part: db, bytes, step, index, of: parts });
      // Like pg_dumpall: template1 and postgres exist on every cluster, their SQL goes into them.
      const plainCreates = scope === 'all' && format === 'plain' && !ON_EVERY_CLUSTER.includes(db);
      report();
      const d = await dumpDatabase({
        writer,
        pgDump: tools.pgDump,
        pgRestore: tools.pgRestore,
        env: libpqEnv(withDatabase(params, db)),
        database: db,
        format,
        args: {
          schemas: o.schemas,
          tables: o.tables,
          excludeTables: o.excludeTables,
          schemaOnly: o.schemaOnly,
          dataOnly: o.dataOnly,
          jobs: o.jobs,
          noCompression: compressedBy === 'repository',
          create: plainCreates,
        },
        hints,
        signal: o.signal,
        onBytes: (n) => {
          bytes = n;
          report();
        },
        onStep: (s) => {
          step = s;
          report();
        },
      });
      if (d.tocNote && format !== 'plain') warnings.push(`database ${db}: ${d.tocNote}`);
      dumped.push(scope === 'all' && format === 'plain' ? { ...d, createsDatabase: plainCreates } : d);
    }
    const meta: DumpMeta = {
      version: 1,
      scope,
      format,
      pgDumpVersion: tools.pgDump.version,
      serverVersion: facts.version,
      serverVersionNum: facts.versionNum,
      source: describeConnection(params).replace(/ dbname=.*$/, ''),
      options: {
        schemas: o.schemas ?? [],
        tables: o.tables ?? [],
        excludeTables: o.excludeTables ?? [],
        schemaOnly: Boolean(o.schemaOnly),
        dataOnly: Boolean(o.dataOnly),
        jobs: o.jobs ?? 1,
        compressedBy,
      },
      ...(globals ? { globals } : {}),
      databases: dumped,
    };
    const manifest = await writer.commit({ dump: meta });
    return {
      snapshotId: manifest.id,
      cluster: o.clusterName,
      scope,
      format,
      databases: dumped.map((d) => ({
        name: d.name,
        bytes: d.bytes,
        ...(d.toc ? { entries: d.toc.entries.length } : {}),
        ...(d.tocNote ? { tocNote: d.tocNote } : {}),
      })),
      ...(globals ? { globals: { bytes: globals.bytes, noRolePasswords: globals.noRolePasswords } } : {}),
      dumpBytes: dumped.reduce((s, d) => s + d.bytes, 0) + (globals?.bytes ?? 0),
      storedBytes: manifest.stats.storedBytes,
      pgDumpVersion: tools.pgDump.version,
      serverVersion: facts.version,
      seconds: (Date.now() - started) / 1000,
      warnings,
    };
  } catch (e) {
    await writer.abort().catch(() => {});
    if (o.signal?.aborted) {
      throw o.signal.reason instanceof PgkeepError
        ? o.signal.reason
        : new PgkeepError('INTERRUPTED', 'dump interrupted; nothing was stored');
    }
    throw e;
  }
}

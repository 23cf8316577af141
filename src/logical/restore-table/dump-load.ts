/**
 * Steps "dump" and "load": the renamed table (definition, data, indexes, constraints, triggers,
 * grants, owned sequences) out of the sandbox with pg_dump -t into a custom archive in the
 * sandbox directory, then into the live database with pg_restore in one transaction, so the
 * live database gets the whole table or nothing.
 */
import { statSync } from 'node:fs';
import { PgkeepError } from '../../errors.js';
import type { ClusterSettings } from '../../config/types.js';
import { withClient, type ConnectionParams } from '../../pg/connect.js';
import type { LocalCluster } from '../../pg/local-cluster.js';
import type { PgTool } from '../../pg/bin.js';
import { quoteQualified, type QualifiedName } from '../identifiers.js';
import { describeRestoreError } from '../restore/pg-restore-log.js';
import { pgRestoreArgs } from '../restore/pg-restore-args.js';
import { runRestoreTool } from '../restore/run-restore.js';
import { libpqEnv } from '../tools/libpq-env.js';
import { runTool, toolFailed } from '../tools/run-tool.js';
import { wrapServerError } from '../server-error.js';

/** Connection parameters reaching the sandbox over its socket as its superuser. */
export function sandboxParams(sandbox: LocalCluster, database: string): ConnectionParams {
  return {
    host: sandbox.socketDir,
    port: sandbox.port,
    user: sandbox.superuser,
    database,
    sslmode: 'disable',
    keepalives: false,
    isSocket: true,
    warnings: [],
    applicationName: 'pgkeep restore-table',
  };
}

/** pg_dump's arguments for one table, exactly (quoted, so no pattern characters apply). Pure. */
export function tableDumpArgs(table: Required<QualifiedName>, file: string): string[] {
  return [
    '--format=custom',
    '--compress=0',
    '--no-password',
    `--table=${quoteQualified(table)}`,
    '--strict-names',
    // Publication membership would start replicating the copy; subscriptions are not the table's.
    '--no-publications',
    '--no-subscriptions',
    `--file=${file}`,
  ];
}

export async function dumpTable(
  pgDump: PgTool,
  sandbox: LocalCluster,
  database: string,
  table: Required<QualifiedName>,
  file: string,
  signal?: AbortSignal,
): Promise<number> {
  const run = runTool(pgDump.path, tableDumpArgs(table, file), {
    env: libpqEnv(sandboxParams(sandbox, database)),
    stdout: 'ignore',
    signal,
  });
  const exit = await run.exit;
  if (exit.code !== 0) throw toolFailed(`dumping ${quoteQualified(table)} from the sandbox`, 'pg_dump', exit);
  return statSync(file).size;
}

export async function loadTable(
  pgRestore: PgTool,
  live: ConnectionParams,
  file: string,
  o: {
    noOwner?: boolean;
    signal?: AbortSignal;
    onStep?: (text: string) => void;
  },
): Promise<void> {
  const args = pgRestoreArgs({ database: live.database, noOwner: o.noOwner });
  args.push('--single-transaction', file);
  const r = await runRestoreTool({ tool: pgRestore, args, env: libpqEnv(live), signal: o.signal, onStep: o.onStep });
  if (r.exit.code === 0 && r.log.errors.length === 0) return;
  const first = r.log.errors[0];
  if (!first) throw toolFailed(`loading the table into database ${live.database}`, 'pg_restore', r.exit);
  const text = describeRestoreError(first);
  const exists = /already exists/.test(first.message);
  const role = /role ".*" does not exist/.test(first.message);
  throw new PgkeepError(
    exists ? 'CONFLICT' : role ? 'NOT_FOUND' : 'SERVER_NOT_READY',
    `loading the table into database ${live.database} failed, nothing was changed there (one transaction): ${text}`,
    {
      hint: exists
        ? 'an object of that name appeared in the live database meanwhile: choose another name with --as'
        : role
          ? 'the owner (or a role in the grants) does not exist on the live server: restore with --no-owner'
          : /permission denied|must be owner|must be member/.test(first.message)
            ? 'connect as a role that may create the table and set its owner (a superuser), or restore with --no-owner'
            : 'fix the cause and run restore-table again',
      details: { errors: r.log.errors.map((e) => ({ text: describeRestoreError(e), command: e.command, detail: e.detail })) },
    },
  );
}

/**
 * Create the extended statistics pg_dump did not bring (pg_dump -t of some versions leaves them
 * out); those already there (a pg_dump that dumps them) are left alone. Returns the ones created.
 */
export async function createMissingStatistics(
  cluster: ClusterSettings,
  database: string,
  statistics: { schema: string; name: string; definition: string }[],
  signal?: AbortSignal,
): Promise<string[]> {
  if (!statistics.length) return [];
  return withClient(cluster, { database, signal }, async (c) => {
    const created: string[] = [];
    for (const s of statistics) {
      const r = await c.query(
        `select 1 from pg_statistic_ext x join pg_namespace n on n.oid = x.stxnamespace
          where n.nspname = $1 and x.stxname = $2`,
        [s.schema, s.name],
      );
      if (r.rowCount) continue;
      try {
        await c.query(s.definition);
      } catch (e) {
        throw wrapServerError(e, `creating statistics ${s.name} on the restored table (the table itself is loaded)`);
      }
      created.push(s.name);
    }
    return created;
  });
}

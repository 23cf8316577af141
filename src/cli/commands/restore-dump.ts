/**
 * `pgkeep restore-dump <id|latest>`: a stored dump back into a server (pg_restore / psql), whole
 * or some tables and schemas; `--list` shows what a dump holds from its stored TOC.
 */
import { ERROR_CODES } from '../../errors.js';
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes, table } from '../output.js';
import { listDump, restoreDump, type DumpListing, type RestoreDumpResult } from '../../logical/index.js';
import { progressLine } from './copy.js';
import { openRepo } from './dump.js';

interface RestoreFlags {
  into?: string;
  create?: boolean;
  intoUrl?: string;
  sourceDatabase?: string;
  table: string[];
  schema: string[];
  clean?: boolean;
  /** commander turns --no-owner into owner: false. */
  owner?: boolean;
  jobs?: string;
  all?: boolean;
  continueOnError?: boolean;
  list?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function renderList(l: DumpListing): string {
  const out = [`dump ${l.snapshotId}: ${l.scope}, ${l.format} format, pg_dump ${l.pgDumpVersion}, server ${l.serverVersion}`];
  if (l.globals)
    out.push(`roles and tablespaces: ${formatBytes(l.globals.bytes)}${l.globals.noRolePasswords ? ' (without role passwords)' : ''}`);
  for (const d of l.databases) {
    out.push('', `database ${d.name} (${formatBytes(d.bytes)})${d.note ? `: ${d.note}` : ''}`);
    if (d.entries.length) {
      out.push(
        table(
          ['id', 'type', 'schema', 'name', 'owner'],
          d.entries.map((e) => [e.dumpId, e.type, e.schema ?? '', e.name, e.owner]),
        ),
      );
    }
  }
  return out.join('\n');
}

function renderRestore(r: RestoreDumpResult): string {
  const out: string[] = [];
  for (const p of r.parts) {
    const where =
      p.name === 'globals' ? 'roles and tablespaces' : `database ${p.name} ${p.mode === 'create' ? '(created)' : `into ${p.target}`}`;
    out.push(
      `restored ${where}${p.entries !== undefined ? `: ${p.entries} TOC entries` : ''} in ${p.seconds.toFixed(1)} s` +
        (p.errors.length ? `, ${p.errors.length} error${p.errors.length === 1 ? '' : 's'}` : ''),
    );
    for (const e of p.errors.slice(0, 20)) out.push(`  error: ${e.text}`);
    if (p.errors.length > 20) out.push(`  ... and ${p.errors.length - 20} more (see --json)`);
    if (p.ignored.length)
      out.push(`  expected and skipped: ${p.ignored.length} (${p.ignored.slice(0, 3).join('; ')}${p.ignored.length > 3 ? '; ...' : ''})`);
  }
  out.push(
    `snapshot ${r.snapshotId} restored in ${r.seconds.toFixed(1)} s${r.errorCount ? ` with ${r.errorCount} errors (--continue-on-error)` : ''}`,
  );
  for (const w of r.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

export function register(program: Command, runner: Runner): void {
  program
    .command('restore-dump')
    .description(
      'restore a stored dump with pg_restore (or psql for plain SQL): a whole database, some tables or schemas, or a whole cluster',
    )
    .argument(
      '<id>',
      'snapshot id (or the start of one), or "latest" (also "latest-logical"): the newest dump, even when a physical backup is newer',
    )
    .option('--into <db>', 'restore into this existing database')
    .option('--create', 'create the dumped database (under its own name) and restore into it')
    .option('--into-url <url>', 'restore on this server instead (libpq URL or key=value; its database unless --into)')
    .option('--source-database <name>', 'the database of a whole-cluster (--all) dump to restore')
    .option('--table <name>', 'only this table with its data, indexes, constraints, triggers, grants (repeatable)', collect, [])
    .option('--schema <name>', 'only this schema and everything in it (repeatable)', collect, [])
    .option('--clean', 'drop objects before recreating them (with --create: drop the database)')
    .option('--no-owner', 'do not set object owners (objects belong to the restoring role)')
    .option('--jobs <n>', 'parallel jobs, one connection each (default: the cores, at most 4)')
    .option('--all', 'restore a whole-cluster dump: roles and tablespaces, then every database')
    .option('--continue-on-error', 'go on after errors and count them (default: stop at the first)')
    .option('--list', 'show the objects in the dump (from its stored table of contents) and restore nothing')
    .addHelpText(
      'after',
      `
By default the restore stops at the first error and names the object that failed.

Examples:
  pgkeep restore-dump latest --list
  pgkeep restore-dump latest --create
  pgkeep restore-dump 20260101T120000Z-1a2b --into shop_copy --table sales.orders
  pgkeep restore-dump latest --into-url postgres://admin@new-host/shop --no-owner --jobs 4
  pgkeep restore-dump latest --all -d "host=new-host user=postgres"`,
    )
    .action(
      runner.action<RestoreFlags>(async (ctx, opts, args) => {
        const id = args[0]!;
        const repo = await openRepo(ctx);
        const bar = progressLine(ctx);
        try {
          if (opts.list) {
            const listing = await listDump(repo, ctx.config.clusterName, id, { database: opts.sourceDatabase });
            ctx.out.result(listing, renderList);
            return;
          }
          const result = await restoreDump({
            repo,
            clusterName: ctx.config.clusterName,
            cluster: ctx.config.cluster,
            id,
            into: opts.into,
            create: opts.create,
            intoUrl: opts.intoUrl,
            sourceDatabase: opts.sourceDatabase,
            tables: opts.table,
            schemas: opts.schema,
            clean: opts.clean,
            noOwner: opts.owner === false,
            jobs: opts.jobs === undefined ? undefined : Number(opts.jobs),
            all: opts.all,
            continueOnError: opts.continueOnError,
            signal: ctx.signal,
            onProgress: (p) => bar.update(`${p.part}: ${p.step ?? ''}${p.bytes ? ` (${formatBytes(p.bytes)} read)` : ''}`.slice(0, 150)),
          });
          bar.done();
          ctx.out.result(result, renderRestore);
          // Like pg_restore: errors skipped with --continue-on-error still make the exit non-zero,
          // so a script notices that the restored database is incomplete.
          if (result.errorCount) {
            ctx.log.warn(`${result.errorCount} errors were skipped (--continue-on-error): the restore is incomplete`);
            return ERROR_CODES.CONFLICT;
          }
        } finally {
          bar.done();
          await repo.closeAll();
        }
      }),
    );
}

/**
 * `pgkeep dump`: a logical backup (pg_dump / pg_dumpall) stored in the repository.
 */
import { Option, type Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import { formatBytes, table } from '../output.js';
import { openRepository } from '../../repo/index.js';
import { passphraseGetter } from '../passphrase-prompt.js';
import { dump, DUMP_FORMATS, type DumpFormat, type DumpResult } from '../../logical/index.js';
import { progressLine } from './copy.js';

interface DumpFlags {
  database?: string;
  schema: string[];
  table: string[];
  excludeTable: string[];
  schemaOnly?: boolean;
  dataOnly?: boolean;
  format: string;
  jobs?: string;
  all?: boolean;
  globals?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

/** Open the configured repository for a logical command; close it with closeAll(). */
export function openRepo(ctx: CommandContext) {
  return openRepository(ctx.config.repo, { getPassphrase: passphraseGetter(ctx.config.passphrase) });
}

function renderDump(r: DumpResult): string {
  const what =
    r.scope === 'all'
      ? `cluster (${r.databases.length} databases + roles)`
      : r.scope === 'globals'
        ? 'roles and tablespaces'
        : `database ${r.databases[0]?.name}`;
  const lines = [
    `dump ${r.snapshotId} of ${what} stored (${r.format} format, pg_dump ${r.pgDumpVersion}, server ${r.serverVersion})`,
    `${formatBytes(r.dumpBytes)} dumped, ${formatBytes(r.storedBytes)} stored, in ${r.seconds.toFixed(1)} s`,
  ];
  if (r.databases.length > 1 || r.globals) {
    const rows: (string | number)[][] = r.databases.map((d) => [d.name, formatBytes(d.bytes), d.entries ?? '']);
    if (r.globals) rows.unshift(['(roles, tablespaces)', formatBytes(r.globals.bytes), '']);
    lines.push('', table(['part', 'size', 'TOC entries'], rows));
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

export function register(program: Command, runner: Runner): void {
  program
    .command('dump')
    .description('logical backup with pg_dump (one database, some objects, or the whole cluster with pg_dumpall), stored in the repository')
    .option('--database <name>', "database to dump (default: the connection's)")
    .option('--schema <name>', 'only this schema (repeatable; pg_dump pattern)', collect, [])
    .option('--table <name>', 'only this table (repeatable; pg_dump pattern, e.g. sales.orders or "sales.order*")', collect, [])
    .option('--exclude-table <name>', 'leave this table out (repeatable)', collect, [])
    .option('--schema-only', 'definitions only, no data')
    .option('--data-only', 'data only, no definitions')
    .addOption(new Option('--format <format>', 'archive format').choices(DUMP_FORMATS).default('custom'))
    .option('--jobs <n>', 'parallel pg_dump jobs (directory format)')
    .option('--all', 'the whole cluster: roles and tablespaces, then every database (one snapshot)')
    .option('--globals', 'roles and tablespaces only')
    .addHelpText(
      'after',
      `
The archive streams from pg_dump into the repository (chunked, compressed, encrypted if the
repository is); pg_dump's own compression is turned off when the repository compresses. The
snapshot records pg_dump's and the server's versions, the options, and the archive's table of
contents, so "pgkeep restore-dump ID --list" works without reading the dump.
pg_dump must be of the server's major version or newer (found like the server binaries, or in
pg_bin / PGKEEP_PG_BIN).

Examples:
  pgkeep dump --database shop                      one database (custom format)
  pgkeep dump --database shop --table sales.orders --table sales.lines
  pgkeep dump --database shop --format directory --jobs 4
  pgkeep dump --all                                every database, roles and tablespaces
  pgkeep --json dump --globals`,
    )
    .action(
      runner.action<DumpFlags>(async (ctx, opts) => {
        const jobs = opts.jobs === undefined ? undefined : Number(opts.jobs);
        const repo = await openRepo(ctx);
        const bar = progressLine(ctx);
        let result: DumpResult;
        try {
          result = await dump({
            repo,
            clusterName: ctx.config.clusterName,
            cluster: ctx.config.cluster,
            database: opts.database,
            schemas: opts.schema,
            tables: opts.table,
            excludeTables: opts.excludeTable,
            schemaOnly: opts.schemaOnly,
            dataOnly: opts.dataOnly,
            format: opts.format as DumpFormat,
            jobs,
            all: opts.all,
            globals: opts.globals,
            signal: ctx.signal,
            onProgress: (p) =>
              bar.update(`[${p.index}/${p.of}] ${p.part}: ${formatBytes(p.bytes)}${p.step ? `, ${p.step}` : ''}`.slice(0, 150)),
          });
        } finally {
          bar.done();
          await repo.closeAll();
        }
        ctx.out.result(result, renderDump);
      }),
    );
}

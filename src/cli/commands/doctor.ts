/**
 * `pgkeep doctor`: is the server ready for each backup method, and what exactly to change.
 * Exits with SERVER_NOT_READY (5) when a check fails. `renderDoctor` is also used by the demo.
 */
import { Option, type Command } from 'commander';
import type { Runner } from '../context.js';
import { EXIT, PgkeepError, exitCodeOf } from '../../errors.js';
import { DOCTOR_METHODS, SECTION_ORDER, runDoctor, type DoctorMethod, type DoctorReport } from '../../doctor/index.js';
import { askOnTerminal } from '../passphrase-prompt.js';

interface DoctorFlags {
  method: DoctorMethod | 'all';
  checkArchive?: boolean;
  timeout: string;
}

const SECTION_TITLES: Record<string, string> = {
  server: 'Server (every method)',
  stream: 'stream: hot backup over the replication protocol (pgkeep backup --method stream)',
  local: 'local: hot backup reading the data directory on this host (pgkeep backup --method local)',
  cold: 'cold: copy of a cleanly stopped cluster (pgkeep backup --method cold)',
  archive: 'archive: continuous WAL archiving for point-in-time recovery (archive_command = pgkeep wal push)',
  logical: 'logical: pg_dump / pg_restore (pgkeep dump, pgkeep restore-dump)',
};

export function register(program: Command, runner: Runner): void {
  program
    .command('doctor')
    .description('check that the server is ready for each backup method; every problem comes with the exact change to make')
    .addOption(new Option('--method <method>', 'which backup method to check').choices([...DOCTOR_METHODS, 'all']).default('all'))
    .option('--check-archive', 'archive: switch to a new WAL segment and wait until it is stored in the repository')
    .option('--timeout <seconds>', 'how long --check-archive waits for the segment', '60')
    .addHelpText(
      'after',
      `
Each check is PASS, WARN or FAIL. A FAIL comes with the exact change (postgresql.conf line,
pg_hba.conf line, SQL) and says whether it needs a reload or a restart. The exit code is 5
(server not ready) when any check fails.

Examples:
  pgkeep doctor                                   all methods
  pgkeep doctor --method stream                   ready for pgkeep backup over the network?
  pgkeep -d "host=db1 user=backup" doctor --method archive
  pgkeep --pgdata /var/lib/postgresql/15/main doctor --method cold
  pgkeep doctor --method archive --check-archive --timeout 30
                                                  archive a segment end to end (runs pg_switch_wal())
  pgkeep --json doctor                            the checks as JSON`,
    )
    .action(
      runner.action<DoctorFlags>(async (ctx, opts) => {
        const timeout = Number(opts.timeout.replace(/s$/, ''));
        if (!(timeout > 0) || !Number.isFinite(timeout)) {
          throw new PgkeepError('USAGE', `--timeout ${opts.timeout} is not a positive number of seconds`, { hint: 'e.g. --timeout 60' });
        }
        if (opts.checkArchive && opts.method !== 'all' && opts.method !== 'archive') {
          throw new PgkeepError('USAGE', `--check-archive checks archiving, not --method ${opts.method}`, {
            hint: 'use --method archive (or all)',
          });
        }
        const report = await runDoctor(ctx.config.cluster, {
          repo: ctx.config.repo,
          checkArchive: Boolean(opts.checkArchive),
          askPassphrase: askOnTerminal,
          archiveTimeoutMs: timeout * 1000,
          methods: opts.method === 'all' ? [...DOCTOR_METHODS] : [opts.method],
          clusterName: ctx.config.clusterName,
          configFile: ctx.config.file,
          signal: ctx.signal,
        });
        ctx.out.result(report, renderDoctor);
        return report.ok ? EXIT.OK : exitCodeOf('SERVER_NOT_READY');
      }),
    );
}

function indentLines(text: string, first: string, rest: string): string {
  return text
    .split('\n')
    .map((l, i) => (i === 0 ? first : rest) + l)
    .join('\n');
}

/** Human text for a doctor report: one block per section, then a verdict per method. */
export function renderDoctor(report: DoctorReport): string {
  const out: string[] = [`Doctor: ${report.target}`, ''];
  const width = Math.max(...report.checks.map((c) => c.check.length));
  for (const section of SECTION_ORDER) {
    const checks = report.checks.filter((c) => c.method === section);
    if (!checks.length) continue;
    out.push(SECTION_TITLES[section] ?? section);
    for (const c of checks) {
      const head = `  ${c.status.padEnd(4)}  ${c.check.padEnd(width)}  `;
      const pad = ' '.repeat(head.length);
      out.push(indentLines(c.message, head, pad));
      if (c.fix) {
        const label = `fix${c.needs === 'none' ? '' : ` (needs ${c.needs})`}: `;
        out.push(indentLines(c.fix, pad + label, pad + ' '.repeat(label.length)));
      }
    }
    out.push('');
  }
  out.push('Summary');
  const mw = Math.max(...report.summary.map((s) => s.method.length));
  for (const s of report.summary) {
    const counts = [s.fail ? `${s.fail} FAIL` : '', s.warn ? `${s.warn} WARN` : ''].filter(Boolean).join(', ');
    out.push(`  ${s.method.padEnd(mw)}  ${s.verdict}${counts ? ` (${counts})` : ''}`);
  }
  return out.join('\n');
}

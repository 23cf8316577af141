/**
 * `pgkeep drill`: restore the cluster into a throwaway sandbox on this host, recover it, check it,
 * and record how long each phase took (RTO) and how much the copy lacks (RPO); `drill list` and
 * `drill show ID` read the records back.
 */
import type { Command } from 'commander';
import { exitCodeOf, EXIT, PgkeepError, type ErrorCode } from '../../errors.js';
import { parseDuration } from '../../config/duration.js';
import type { CommandContext, Runner } from '../context.js';
import { progressBar } from '../progress.js';
import { drill, listDrillRecords, parseDrillTarget, readDrillRecord, type DrillEvent, type DrillRecord } from '../../drill/index.js';
import { openRepo } from './dump.js';
import { repositoryAccess } from '../restore-access.js';
import { VERSION } from '../main.js';

interface DrillFlags {
  target?: string;
  randomDays?: string;
  checkSql?: string;
  keep?: boolean;
  maxDuration?: string;
  sandboxDir?: string;
}

const secs = (s: number) => (s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(2)} h`);

export function renderDrill(r: DrillRecord): string {
  const target =
    r.target.kind === 'latest'
      ? `the end of the archive${r.target.lsn ? ` (${r.target.lsn})` : ''}`
      : `${r.target.kind} ${r.target.time ?? ''}`;
  const lines = [
    r.ok
      ? `drill ${r.id} PASSED: cluster ${r.cluster}, backup ${r.backupId} recovered to ${target}`
      : `drill ${r.id} FAILED in phase ${r.failedPhase}: ${r.error}`,
    `RTO ${secs(r.rtoSeconds)} (${r.phases.map((p) => `${p.name} ${secs(p.seconds)}${p.ok ? '' : ' FAILED'}`).join(', ')})` +
      (r.rpoSeconds !== undefined ? `; RPO ${secs(r.rpoSeconds)}` : ''),
  ];
  for (const p of r.phases) if (p.detail) lines.push(`  ${p.name}: ${p.detail}`);
  if (r.hint) lines.push(`hint: ${r.hint}`);
  if (r.checks.length) lines.push('checks:');
  for (const c of r.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? `: ${c.detail}` : ''}`);
  return lines.join('\n');
}

function renderList(rows: DrillRecord[]): string {
  if (!rows.length) return 'no drills recorded for this cluster (run: pgkeep drill)';
  const head = 'ID                        RESULT  TARGET  BACKUP                    RTO         RPO         FAILED PHASE';
  return [
    head,
    ...rows.map((r) =>
      [
        r.id.padEnd(25),
        (r.ok ? 'pass' : 'FAIL').padEnd(7),
        r.target.kind.padEnd(7),
        (r.backupId ?? '-').padEnd(25),
        secs(r.rtoSeconds).padEnd(11),
        (r.rpoSeconds !== undefined ? secs(r.rpoSeconds) : '-').padEnd(11),
        r.failedPhase ?? '',
      ].join(' '),
    ),
  ].join('\n');
}

/** One stderr line per phase; a byte bar while the files are restored. */
function phaseReporter(ctx: CommandContext): { on(e: DrillEvent): void; done(): void } {
  const bar = progressBar(ctx, { label: 'restore' });
  return {
    on(e) {
      if (e.state === 'progress') {
        if (e.bytesDone !== undefined) bar.update(e.bytesDone, e.bytesTotal);
        return;
      }
      if (e.phase === 'restore' && e.state !== 'start') bar.done();
      if (ctx.config.json || e.state === 'start') return;
      const took = e.seconds !== undefined ? ` (${e.seconds.toFixed(1)} s)` : '';
      ctx.log.info(`${e.phase}${e.state === 'failed' ? ' FAILED' : ''}${took}${e.detail ? `: ${e.detail}` : ''}`);
    },
    done: () => bar.done(),
  };
}

export function register(program: Command, runner: Runner): void {
  const cmd = program
    .command('drill')
    .description('restore drill: restore, recover and check a throwaway copy on this host; record the RTO and RPO in the repository')
    .option('--target <latest|random|time>', 'latest: the end of the archive (default); random: a random moment; or a time')
    .option('--random-days <n>', '--target random: a moment within the last N days (default 7)')
    .option('--check-sql <file>', 'SQL checks, each statement returning one boolean (\\c DB switches database)')
    .option('--keep', 'keep the sandbox (stopped) instead of removing it')
    .option('--max-duration <d>', 'stop the drill (it fails) after this long, e.g. 2h (default 24h)')
    .option('--sandbox-dir <dir>', 'where the sandbox is created (default: the temp directory); it needs room for the whole cluster')
    .addHelpText(
      'after',
      `
Phases, each timed (their sum is the RTO): choose (target and backup; the plan checks that the
archive reaches the target), restore (the backup's files into a private sandbox), wal (start the
copy: restore_command fetches the archived WAL, the server replays it to the target and promotes),
start (the copy takes writes), checks (every database connects; pg_amcheck heap and btree when
installed; row counts of the largest tables; the --check-sql statements).
The sandbox listens on no TCP port (a private unix socket only) and never archives; it is removed
afterwards, also on failure or Ctrl-C, unless --keep. Every drill, passed or failed, is recorded in
the repository: pgkeep drill list [--json], pgkeep drill show ID.
Exit code: 0 when the drill passed, else the code of the failure (docs/exit-codes.md).

Examples:
  pgkeep drill
  pgkeep drill --target random --random-days 30 --check-sql checks.sql --max-duration 2h
  pgkeep drill --target "2026-01-02 14:05:00+01" --keep
  pgkeep --json drill list`,
    )
    .action(
      runner.action<DrillFlags>(async (ctx, opts) => {
        const d = ctx.config.drill ?? {};
        const randomDays = opts.randomDays ?? (d.randomDays !== undefined ? String(d.randomDays) : undefined);
        if (randomDays !== undefined && !/^\d+$/.test(randomDays)) {
          throw new PgkeepError('USAGE', `--random-days must be a whole number of days, got "${randomDays}"`);
        }
        const target = opts.target ?? d.target;
        parseDrillTarget(target, randomDays === undefined ? undefined : Number(randomDays));
        const maxDurationMs = opts.maxDuration !== undefined ? parseDuration(opts.maxDuration, '--max-duration') : d.maxDurationMs;
        const repo = await openRepo(ctx);
        const report = phaseReporter(ctx);
        try {
          const r = await drill({
            repo,
            cluster: ctx.config.clusterName,
            access: repositoryAccess(ctx),
            target,
            randomDays: randomDays === undefined ? undefined : Number(randomDays),
            checkSql: opts.checkSql ?? d.checkSql,
            keep: opts.keep,
            sandboxParent: opts.sandboxDir ?? d.sandboxDir,
            maxDurationMs,
            pgBin: ctx.config.cluster.pgBin,
            pgkeepVersion: VERSION,
            signal: ctx.signal,
            onProgress: (e) => report.on(e),
          });
          report.done();
          for (const w of r.warnings) ctx.log.warn(w);
          if (r.kept) ctx.log.info(`sandbox kept (stopped) in ${r.kept.dir}${r.kept.logFile ? ` (server log ${r.kept.logFile})` : ''}`);
          ctx.out.result(r.record, renderDrill);
          return r.record.ok ? EXIT.OK : exitCodeOf((r.record.errorCode ?? 'INTERNAL') as ErrorCode);
        } finally {
          report.done();
          await repo.closeAll();
        }
      }),
    );

  cmd
    .command('list')
    .description('the recorded drills of the cluster, oldest first (evidence for an auditor: --json)')
    .action(
      runner.action(async (ctx) => {
        const repo = await openRepo(ctx);
        try {
          ctx.out.result(await listDrillRecords(repo, ctx.config.clusterName), renderList);
        } finally {
          await repo.closeAll();
        }
      }),
    );

  cmd
    .command('show <id>')
    .description('one recorded drill: phases, checks, RTO and RPO')
    .action(
      runner.action(async (ctx, _opts, args) => {
        const repo = await openRepo(ctx);
        try {
          ctx.out.result(await readDrillRecord(repo, ctx.config.clusterName, args[0]!), renderDrill);
        } finally {
          await repo.closeAll();
        }
      }),
    );
}

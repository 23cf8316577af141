/**
 * `pgkeep agent`: run the schedules of pgkeep.toml and supervise `wal stream` until SIGTERM or
 * SIGINT; SIGHUP reloads the configuration. Logs one JSON object per line on stdout (text when
 * stdout is a terminal and --json is not given).
 */
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import { EXIT, exitCodeOf } from '../../errors.js';
import { loadConfig, type GlobalFlags } from '../../config/index.js';
import type { AgentEvent } from '../../agent/index.js';

const LEVELS = ['debug', 'info', 'warn', 'error'];

export function register(program: Command, runner: Runner): void {
  program
    .command('agent')
    .description(
      'the long-lived service: scheduled backups, dumps, expire and verify, and a supervised "wal stream" (one per repository and host)',
    )
    .option('--once', 'run every scheduled job once now (a full backup rather than both kinds), then exit')
    .addHelpText(
      'after',
      `
Schedules come from [cluster.NAME.schedule] in pgkeep.toml (cron expressions; docs/operations.md):
  backup_full, backup_incremental, dump, expire (then repo gc), verify, stream = true.
Jobs run as "pgkeep" child processes; a job never overlaps itself. A run missed while no agent
ran is reported at start and run once (unless [agent] catch_up = false). The agent's state
(every job's last and next run, the stream's lag) is in state.json under [agent] state_dir.
SIGHUP reloads the configuration (a bad one is reported and the old one kept); SIGTERM or
SIGINT interrupts running jobs, waits for them at most [agent] stop_timeout (60s), and exits 0.

Examples:
  pgkeep agent --config /etc/pgkeep/pgkeep.toml
  pgkeep agent --once                    try every job of the schedule now`,
    )
    .action(
      runner.action<{ once?: boolean }>(async (ctx, opts, _args) => {
        const { runAgent, combineHooks } = await import('../../agent/index.js');
        const flags = flagsOf(ctx);
        const result = await runAgent({
          config: ctx.config,
          loadConfig: () => loadConfig(flags),
          onReloadRequest: (fn) => {
            process.on('SIGHUP', fn);
            return () => void process.off('SIGHUP', fn);
          },
          signal: ctx.signal,
          once: opts.once,
          log: eventWriter(ctx),
          startMonitor: combineHooks(
            async (m) => (await import('../../monitor/agent-monitor.js')).startAgentMonitor(m),
            async (m) => (await import('../../dashboard/index.js')).startAgentDashboard(m),
          ),
        });
        const failed = result.runs.find((r) => r.result !== 'ok');
        if (!failed) return EXIT.OK;
        // A run ended by a signal has no exit code: report it as interrupted, never as success.
        return failed.exitCode ?? exitCodeOf('INTERRUPTED');
      }),
    );
}

/** Reloads read the same file for the same repository (a new [repo] path takes effect at restart). */
function flagsOf(ctx: CommandContext): GlobalFlags {
  return { config: ctx.config.file, repo: ctx.config.repo.path, json: ctx.config.json };
}

function eventWriter(ctx: CommandContext): (e: AgentEvent) => void {
  const min = LEVELS.indexOf(ctx.config.logLevel);
  const text = Boolean(process.stdout.isTTY) && !ctx.config.json;
  return (e) => {
    if (LEVELS.indexOf(e.level) < min) return;
    const time = new Date().toISOString();
    if (text) {
      const where = [e.cluster, e.job].filter(Boolean).join('/');
      process.stdout.write(`${time} ${e.level.toUpperCase().padEnd(5)} ${where ? `[${where}] ` : ''}${e.message}\n`);
    } else {
      const { level, event, message, ...rest } = e;
      process.stdout.write(JSON.stringify({ time, level, event, message, ...rest }) + '\n');
    }
  };
}

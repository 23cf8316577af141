/**
 * `pgkeep status`: per cluster, backups, the recoverable window, archive and stream lag, the
 * health checks and the agent's next jobs. Exits with Nagios's codes (0 OK, 1 WARN, 2 CRITICAL,
 * 3 UNKNOWN: the worst check of every cluster shown), so existing monitoring can call it.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { EXIT } from '../../errors.js';
import { clusterStatus, monitoredClusters, worst, type CheckState, type ClusterStatus } from '../../monitor/index.js';
import { renderStatus } from '../status-render.js';

const STATUS_EXIT: Record<CheckState, number> = {
  OK: EXIT.STATUS_OK,
  WARN: EXIT.STATUS_WARN,
  CRITICAL: EXIT.STATUS_CRITICAL,
  UNKNOWN: EXIT.STATUS_UNKNOWN,
};

export function register(program: Command, runner: Runner): void {
  program
    .command('status')
    .description('health of each cluster: backups, recoverable window, archive lag, checks (Nagios exit codes)')
    .addHelpText(
      'after',
      `
With --cluster only that cluster, else every [cluster.NAME] of the config file. Works with or
without a running agent ([monitor] state_file tells where the agent's jobs are).
Exit codes: 0 OK, 1 WARN, 2 CRITICAL, 3 UNKNOWN (worst check; also 3 when status itself fails).

Examples:
  pgkeep status
  pgkeep --cluster main --json status`,
    )
    .action(
      runner.action(async (ctx) => {
        // --cluster (or PGKEEP_CLUSTER) picks one cluster; without, every configured one.
        const picked = (program.opts().cluster as string | undefined) ?? process.env.PGKEEP_CLUSTER;
        const clusters = monitoredClusters(ctx.config, picked ? ctx.config.clusterName : undefined);
        const statuses: ClusterStatus[] = [];
        for (const c of clusters) statuses.push(await clusterStatus(ctx.config, c, { signal: ctx.signal }));
        const state = worst(statuses.map((s) => s.state));
        ctx.out.result(ctx.out.json ? { state, clusters: statuses } : statuses, () => statuses.map(renderStatus).join('\n\n'));
        return STATUS_EXIT[state];
      }),
    );
}

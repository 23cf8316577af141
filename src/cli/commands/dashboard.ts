/**
 * `pgkeep dashboard`: serve the read-only web dashboard alone (without the agent) until SIGINT or
 * SIGTERM. Prints its address once listening (a JSON object with --json).
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { EXIT, PgkeepError } from '../../errors.js';
import { DEFAULT_DASHBOARD_PORT } from '../../config/index.js';

function portFlag(v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new PgkeepError('USAGE', `--port must be a TCP port (0-65535; 0 picks a free one), got "${v}"`);
  return n;
}

export function register(program: Command, runner: Runner): void {
  program
    .command('dashboard')
    .description('serve the read-only web dashboard: recoverable window, health, schedule, drills, dumps, repository size')
    .option('--port <port>', `TCP port (default [dashboard] port, else ${DEFAULT_DASHBOARD_PORT}; 0 picks a free one)`)
    .option('--host <address>', 'address to listen on (default [dashboard] host, else 127.0.0.1; any other needs a token)')
    .addHelpText(
      'after',
      `
Every [cluster.NAME] of the config file (or only --cluster). The page is gathered again at most
every [dashboard] refresh (30s). On an address other than localhost a token is required: set
[dashboard] token or PGKEEP_DASHBOARD_TOKEN, then open http://HOST:PORT/?token=TOKEN once (a cookie
keeps it) or send "Authorization: Bearer TOKEN". \`pgkeep agent\` serves the same page when
[dashboard] port is set.

Examples:
  pgkeep dashboard
  PGKEEP_DASHBOARD_TOKEN=... pgkeep dashboard --host 0.0.0.0 --port 8432`,
    )
    .action(
      runner.action<{ port?: string; host?: string }>(async (ctx, opts) => {
        const { serveDashboard } = await import('../../dashboard/index.js');
        const d = ctx.config.dashboard;
        const picked = (program.opts().cluster as string | undefined) ?? process.env.PGKEEP_CLUSTER;
        const server = await serveDashboard({
          config: ctx.config,
          port: portFlag(opts.port, d?.port ?? DEFAULT_DASHBOARD_PORT),
          host: opts.host ?? d?.host ?? '127.0.0.1',
          token: d?.token,
          refreshMs: d?.refreshMs,
          cluster: picked ? ctx.config.clusterName : undefined,
        });
        try {
          ctx.out.result(
            { url: server.url, host: server.host, port: server.port, token: Boolean(d?.token) },
            (r) => `dashboard on ${r.url}${r.token ? ' (token required)' : ''}; Ctrl-C stops it`,
          );
          await new Promise<void>((res) =>
            ctx.signal.aborted ? res() : ctx.signal.addEventListener('abort', () => res(), { once: true }),
          );
        } finally {
          await server.close();
        }
        return EXIT.OK;
      }),
    );
}

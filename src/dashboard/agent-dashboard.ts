/**
 * The dashboard as `pgkeep agent` serves it (one of the agent's services, src/agent/monitor-hook.ts):
 * started when [dashboard] port is set, given each reloaded configuration, closed when the agent
 * stops. A new address or token takes effect at the agent's restart (said in its log).
 */
import type { MonitorContext, MonitorHandle } from '../agent/index.js';
import type { PgkeepConfig } from '../config/index.js';
import { serveDashboard } from './server.js';

const addressOf = (c: PgkeepConfig) => JSON.stringify([c.dashboard?.port, c.dashboard?.host, c.dashboard?.token]);

export async function startAgentDashboard(ctx: MonitorContext): Promise<MonitorHandle> {
  const d = ctx.config.dashboard;
  if (!d?.port) return { reload: () => undefined, stop: () => undefined };
  const server = await serveDashboard({ config: ctx.config, port: d.port, host: d.host, token: d.token, refreshMs: d.refreshMs });
  ctx.log({ level: 'info', event: 'dashboard', message: `dashboard on ${server.url}${d.token ? ' (token required)' : ''}` });
  const started = addressOf(ctx.config);
  return {
    reload: (config) => {
      server.setConfig(config);
      if (addressOf(config) !== started) {
        ctx.log({
          level: 'warn',
          event: 'dashboard',
          message: '[dashboard] port, host or token changed: the change takes effect when the agent restarts',
        });
      }
    },
    stop: () => server.close(),
  };
}

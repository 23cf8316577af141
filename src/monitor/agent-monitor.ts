/**
 * The monitor as `pgkeep agent` runs it (the agent's monitor hook, src/agent/monitor-hook.ts):
 * the loop of health checks and notifications over the agent's live state file, its memory of
 * each check's last state beside that file, and the metrics endpoint when [monitor] metrics_port
 * asks for one. Everything is reported in the agent's log.
 */
import { dirname, join } from 'node:path';
import type { MonitorContext, MonitorHandle as AgentMonitorHandle } from '../agent/index.js';
import { startMonitor, type MonitorEvent, type MonitorLog } from './loop.js';
import { summaryLine } from './notify/event.js';
import { serveMetrics, type MetricsServer } from './serve-metrics.js';

export async function startAgentMonitor(ctx: MonitorContext): Promise<AgentMonitorHandle> {
  const say = (level: 'info' | 'warn' | 'error') => (message: string) => ctx.log({ level, event: 'monitor', message });
  const log: MonitorLog = { info: say('info'), warn: say('warn'), error: say('error') };
  const loop = startMonitor({
    config: ctx.config,
    stateFile: ctx.stateFile,
    memoryFile: join(dirname(ctx.stateFile), 'monitor-memory.json'),
    log,
    onEvent: (e) => report(ctx, e),
  });
  let server: MetricsServer | undefined;
  const listen = async (m: { port: number; host: string } | undefined) => {
    if (!m) return;
    try {
      server = await serveMetrics(m);
      log.info(`metrics on http://${m.host}:${server.port}/metrics`);
    } catch (e) {
      log.error(`cannot serve metrics on ${m.host}:${m.port} ([monitor] metrics_port): ${(e as Error).message}`);
    }
  };
  await listen(ctx.config.monitor.metrics);
  return {
    reload: (config) => loop.reload(config),
    stop: async () => {
      await loop.stop();
      await server?.close();
    },
  };
}

/** A check's state change and a failed round go to the agent's log (notifications are sent by the loop itself). */
function report(ctx: MonitorContext, e: MonitorEvent): void {
  if (e.type === 'change') {
    const level = e.change.to === 'OK' ? 'info' : e.change.to === 'WARN' ? 'warn' : 'error';
    ctx.log({
      level,
      event: 'check-changed',
      message: summaryLine(e.change),
      cluster: e.change.cluster,
      check: e.change.check,
      state: e.change.to,
    });
  } else if (e.type === 'round-failed') {
    ctx.log({ level: 'error', event: 'monitor-round-failed', message: e.error, cluster: e.cluster });
  }
}

/**
 * Several services the agent starts beside its jobs (the monitor, the dashboard) behind the one
 * hook it calls (monitor-hook.ts): each starts in turn, one failing to start stops none of the
 * others (it is reported in the log), reload and stop reach every one that started.
 */
import type { MonitorHandle, StartMonitor } from './monitor-hook.js';

export function combineHooks(...starts: StartMonitor[]): StartMonitor {
  return async (ctx) => {
    const handles: MonitorHandle[] = [];
    for (const start of starts) {
      try {
        handles.push(await start(ctx));
      } catch (e) {
        ctx.log({ level: 'error', event: 'monitor-failed', message: `a service of the agent did not start: ${(e as Error).message}` });
      }
    }
    return {
      reload: async (config) => {
        for (const h of handles) await h.reload(config);
      },
      stop: async () => {
        for (const h of handles) {
          await Promise.resolve(h.stop()).catch((e: unknown) =>
            ctx.log({
              level: 'error',
              event: 'monitor-failed',
              message: `a service of the agent did not stop cleanly: ${(e as Error).message}`,
            }),
          );
        }
      },
    };
  };
}

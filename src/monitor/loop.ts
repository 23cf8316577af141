/**
 * The monitor loop the agent runs (and a test can run on its own): every [monitor] interval, for
 * each cluster, gather the facts, run the checks, update the metrics, and notify every state
 * change of a check. Rounds of one cluster never overlap; a slow or failing notification never
 * delays a round nor stops the loop (it is logged).
 */
import type { PgkeepConfig } from '../config/types.js';
import { defaultMetrics, type MonitorMetrics } from './metrics.js';
import { notify, stateChange, summaryLine, type Delivery, type StateChange } from './notify/index.js';
import { clusterStatus, monitoredClusters } from './status.js';
import type { CheckName, CheckState, ClusterStatus } from './types.js';
import { readCheckMemory, writeCheckMemory, type CheckMemory } from './check-memory.js';

export interface MonitorLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export type MonitorEvent =
  | { type: 'round'; status: ClusterStatus }
  | { type: 'change'; change: StateChange }
  | { type: 'notified'; change: StateChange; deliveries: Delivery[] }
  | { type: 'round-failed'; cluster: string; error: string };

export interface MonitorOptions {
  config: PgkeepConfig;
  /** The agent's state file (default: [monitor] state_file). */
  stateFile?: string;
  log: MonitorLog;
  onEvent?: (e: MonitorEvent) => void;
  /** The metrics to update (default: the ones serveMetrics serves). */
  metrics?: MonitorMetrics;
  /** Wait before a notification's first retry (default 1 s). */
  notifyBackoffMs?: number;
  /**
   * Where the last state of every check is kept across restarts (check-memory.ts); without it a
   * restarted loop re-sends the alerts of checks that are not OK and cannot see a recovery.
   */
  memoryFile?: string;
}

export interface MonitorHandle {
  /** Ends the loop: no new round starts; waits for the round and the notifications in flight. */
  stop(): Promise<void>;
  /** New thresholds, clusters and channels, used from each cluster's next round. */
  reload(config: PgkeepConfig): void;
}

interface ClusterLoop {
  timer?: NodeJS.Timeout;
  busy?: Promise<void>;
  /** The last state of each check (absent before the first round). */
  states: Map<CheckName, CheckState>;
  /** pg_stat_archiver.failed_count at the last round that reached the server. */
  failedCount?: number;
}

export function startMonitor(o: MonitorOptions): MonitorHandle {
  let config = withStateFile(o.config, o.stateFile);
  const metrics = o.metrics ?? defaultMetrics;
  const abort = new AbortController();
  const loops = new Map<string, ClusterLoop>();
  const sending = new Set<Promise<void>>();
  let memory: CheckMemory = {};
  try {
    memory = readCheckMemory(o.memoryFile);
  } catch (e) {
    o.log.warn(
      `cannot read the monitor's memory ${o.memoryFile} (alerts of checks that are not OK will be sent again): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const remember = (cluster: string, states: Map<CheckName, CheckState>) => {
    if (!o.memoryFile) return;
    memory[cluster] = Object.fromEntries(states);
    try {
      writeCheckMemory(o.memoryFile, memory);
    } catch (e) {
      o.log.warn(`cannot write the monitor's memory ${o.memoryFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const emit = (e: MonitorEvent) => {
    try {
      o.onEvent?.(e);
    } catch (err) {
      o.log.error(`monitor event handler failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  const send = (change: StateChange) => {
    const p = notify(config.notify, change, { backoffMs: o.notifyBackoffMs, signal: abort.signal }).then((deliveries) => {
      for (const d of deliveries.filter((x) => !x.ok)) o.log.warn(`notification by ${d.channel} failed: ${d.error}`);
      emit({ type: 'notified', change, deliveries });
    });
    sending.add(p);
    p.finally(() => sending.delete(p));
  };

  const round = async (cluster: string, loop: ClusterLoop) => {
    try {
      const status = await clusterStatus(config, cluster, {
        signal: abort.signal,
        timeoutMs: Math.max(30_000, config.monitor.intervalMs),
        // Failures since the last round tell of a flaky archiver; while it was CRITICAL they are the stall itself.
        previousFailedCount: loop.states.get('archive') === 'CRITICAL' ? undefined : loop.failedCount,
      });
      if (abort.signal.aborted || loops.get(cluster) !== loop) return; // stopped, or dropped by a reload meanwhile
      metrics.update(status);
      if (status.archive) loop.failedCount = status.archive.failedCount;
      emit({ type: 'round', status });
      let changed = false;
      for (const c of status.checks) {
        const before = loop.states.get(c.check) ?? null;
        loop.states.set(c.check, c.state);
        if (before === c.state || (before === null && c.state === 'OK')) continue;
        changed = true;
        const change = stateChange({ cluster, check: c.check, from: before, to: c.state, reason: c.reason, fix: c.fix });
        if (c.state === 'OK') o.log.info(summaryLine(change));
        else o.log.warn(summaryLine(change));
        emit({ type: 'change', change });
        send(change);
      }
      if (changed) remember(cluster, loop.states);
    } catch (e) {
      const error = e instanceof Error ? e.message : String(e);
      o.log.error(`monitor round of cluster ${cluster} failed: ${error}`);
      emit({ type: 'round-failed', cluster, error });
    }
  };

  const schedule = (cluster: string, loop: ClusterLoop, delay: number) => {
    loop.timer = setTimeout(() => {
      loop.busy = round(cluster, loop).finally(() => {
        loop.busy = undefined;
        if (!abort.signal.aborted && loops.get(cluster) === loop) schedule(cluster, loop, config.monitor.intervalMs);
      });
    }, delay);
  };

  const sync = () => {
    const wanted = new Set(monitoredClusters(config));
    for (const [name, loop] of loops) {
      if (wanted.has(name)) continue;
      clearTimeout(loop.timer);
      loops.delete(name);
      metrics.forget(name);
    }
    for (const name of wanted) {
      if (loops.has(name)) continue;
      const loop: ClusterLoop = { states: new Map(Object.entries(memory[name] ?? {}) as [CheckName, CheckState][]) };
      loops.set(name, loop);
      schedule(name, loop, 0);
    }
  };
  sync();

  return {
    async stop() {
      abort.abort();
      for (const loop of loops.values()) clearTimeout(loop.timer);
      await Promise.all([...loops.values()].map((l) => l.busy));
      await Promise.all([...sending]);
    },
    reload(next) {
      config = withStateFile(next, o.stateFile);
      sync();
    },
  };
}

function withStateFile(config: PgkeepConfig, stateFile: string | undefined): PgkeepConfig {
  return stateFile ? { ...config, monitor: { ...config.monitor, stateFile } } : config;
}

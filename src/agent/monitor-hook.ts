/**
 * Where the monitor (health checks, notifications, metrics: src/monitor/) plugs into the agent.
 * The agent calls `startMonitor` once after its schedules and streams are up, `reload` after
 * every successful SIGHUP reload, and `stop` first when it stops. The monitor reads the agent's
 * state (jobs, streams) from `state` (live, the same object written to state.json) and reports
 * through `log` (the agent's JSON-lines log).
 */
import type { PgkeepConfig } from '../config/index.js';
import type { AgentLog } from './events.js';
import type { AgentStateFile } from './state-types.js';

export interface MonitorContext {
  config: PgkeepConfig;
  /** The agent's state, kept current in memory; do not modify it. */
  state: Readonly<AgentStateFile>;
  /** Path of state.json (what a separate `pgkeep status` reads). */
  stateFile: string;
  log: AgentLog;
}

export interface MonitorHandle {
  reload(config: PgkeepConfig): void | Promise<void>;
  stop(): void | Promise<void>;
}

export type StartMonitor = (ctx: MonitorContext) => MonitorHandle | Promise<MonitorHandle>;

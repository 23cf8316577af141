/**
 * What the agent reports while it runs. The agent returns data and reports through this one
 * callback; src/cli/commands/agent.ts turns each event into a JSON line (or a text line on a TTY).
 */
export type AgentEventLevel = 'debug' | 'info' | 'warn' | 'error';

export interface AgentEvent {
  level: AgentEventLevel;
  /** Stable name: "started", "job-start", "job-end", "job-skipped", "job-missed", "stream-exited"... */
  event: string;
  message: string;
  cluster?: string;
  job?: string;
  /** Further machine-readable facts (exit code, pid, delay...). */
  [key: string]: unknown;
}

export type AgentLog = (e: AgentEvent) => void;

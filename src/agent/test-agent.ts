/** agent.test.ts's helpers: the pgkeep.toml it runs the agent with, and the agent's JSON log lines. */
import type { CliProcess } from '../faults/cli-process.js';
import type { LocalCluster } from '../pg/local-cluster.js';

export interface AgentLogLine {
  time: string;
  event: string;
  job?: string;
  result?: string;
  message: string;
  [k: string]: unknown;
}

/** The JSON lines the agent has written to stdout so far. */
export function logLines(p: CliProcess): AgentLogLine[] {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AgentLogLine);
}

/** The config: the repository, the agent's state directory, the monitor (every second, with /metrics) and the schedule of cluster main. */
export function agentConfig(
  o: { repoDir: string; stateDir: string; metricsPort: number; cluster: LocalCluster },
  schedule: Record<string, string | boolean>,
): string {
  const lines = Object.entries(schedule).map(([k, v]) => `${k} = ${typeof v === 'string' ? JSON.stringify(v) : v}`);
  return `
[repo]
path = ${JSON.stringify(o.repoDir)}

[agent]
state_dir = ${JSON.stringify(o.stateDir)}
stop_timeout = "30s"
stream_backoff_max = "2s"

[monitor]
interval = "1s"
metrics_port = ${o.metricsPort}

[cluster.main]
connection = ${JSON.stringify(o.cluster.connectionString())}
pgdata = ${JSON.stringify(o.cluster.dataDir)}

[cluster.main.schedule]
${lines.join('\n')}
`;
}

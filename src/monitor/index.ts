/**
 * Monitoring: health checks per cluster, the status `pgkeep status` shows, notifications of state
 * changes (webhooks, e-mail) and Prometheus metrics; `startMonitor` is the loop the agent runs.
 */
export { startMonitor, type MonitorEvent, type MonitorHandle, type MonitorLog, type MonitorOptions } from './loop.js';
export { clusterStatus, buildStatus, monitoredClusters } from './status.js';
export { gatherClusterFacts } from './facts.js';
export { runChecks, worst } from './checks/index.js';
export { MonitorMetrics, defaultMetrics } from './metrics.js';
export { serveMetrics, type MetricsServer, type ServeMetricsOptions } from './serve-metrics.js';
export { notify, type Delivery, type StateChange } from './notify/index.js';
export { redact as webhookOrigin } from './notify/event.js';
export { readCheckMemory, type CheckMemory } from './check-memory.js';
export { readAgentState, parseAgentState, type AgentState, type AgentJobState, type AgentStreamState } from './agent-state.js';
export * from './types.js';

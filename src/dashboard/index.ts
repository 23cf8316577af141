/**
 * The read-only web dashboard: per cluster the recoverable window on a time axis, archive and
 * stream health (the monitor's checks), the schedule, restore drills with their RTO and RPO,
 * logical dumps, and the repository's size and deduplication. Served by `pgkeep agent` or by
 * `pgkeep dashboard`.
 */
export { serveDashboard, type DashboardServer, type ServeDashboardOptions } from './server.js';
export { gatherDashboard, type GatherDashboardOptions } from './gather.js';
export { startAgentDashboard } from './agent-dashboard.js';
export { isLoopback, checkListenAccess } from './access.js';
export type * from './types.js';

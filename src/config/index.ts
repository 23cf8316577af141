export { loadConfig, findConfigFile, defaultConfigPaths, parseConfigText } from './load.js';
export { CONFIG_SCHEMA } from './schema.js';
export type {
  PgkeepConfig,
  ClusterSettings,
  RepoSettings,
  BackupSettings,
  RetentionSettings,
  GlobalFlags,
  ScheduleSettings,
  AgentSettings,
} from './types.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseConnInfo, redactConnInfo, formatConnInfo, quoteConnValue, isUri, CONNINFO_KEYWORDS } from './conninfo.js';
export { monitorSettings, notifySettings, parseSize, type MonitorSettings, type NotifySettings } from './monitor.js';
export { dashboardSettings, checkPort, DEFAULT_DASHBOARD_PORT, type DashboardSettings } from './dashboard.js';

/** Public API of the PostgreSQL layer. */
export { findPgBinDir, pgToolPath, pgBinVersion, parseToolVersion, type PgBinDir, type FindPgBinOptions } from './bin.js';
export {
  LocalCluster,
  freePort,
  type LocalClusterCreateOptions,
  type LocalClusterAttachOptions,
  type StartOptions,
  type StopMode,
  type HostAuthMethod,
} from './local-cluster.js';
export { formatConfValue, formatConfLine, parseConfLines, renderConfLines, mergeConf, type ConfValue } from './conf-file.js';
export {
  serverOsUser,
  runProgram,
  chownTreeToServerUser,
  ensureTraversable,
  type OsUser,
  type RunResult,
  type RunOptions,
} from './server-user.js';
export {
  resolveConnection,
  describeConnection,
  connect,
  connectWith,
  withClient,
  sslOptions,
  type ConnectionParams,
  type ConnectOptions,
  type ResolveOptions,
  type SslMode,
} from './connect.js';
export { connectionError, suggestHbaLine } from './connect-errors.js';
export { lookupPgpass, readPgpass, parsePgpassLine, DEFAULT_SOCKET_DIR, type PgpassQuery } from './pgpass.js';
export * from './lsn.js';
export * from './wal-name.js';
export * from './protocol/index.js';

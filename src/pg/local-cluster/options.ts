/** The options of LocalCluster.create/attach/start and its stop modes. */

import type { ConfValue } from '../conf-file.js';

export type StopMode = 'smart' | 'fast' | 'immediate';
export type HostAuthMethod = 'trust' | 'scram-sha-256' | 'md5' | 'password' | 'reject';

export interface LocalClusterCreateOptions {
  /** Directory with initdb/pg_ctl/postgres (default: the search of pg/bin.ts). */
  pgBin?: string;
  /**
   * Major version wanted (default: the system's, first in pg/bin.ts's search order). Majors the
   * system lacks come from the npm server binaries pinned in package.json (embedded-pg-<major>).
   */
  major?: number;
  /** initdb --data-checksums (default true). */
  dataChecksums?: boolean;
  /** Settings written to the cluster's include file (e.g. { wal_level: 'replica', fsync: false }). */
  settings?: Record<string, ConfValue>;
  /** pg_hba.conf lines put before initdb's, so they win. */
  hba?: string[];
  /** Extra initdb arguments. */
  initdbArgs?: string[];
  /** Bootstrap superuser name (default "postgres"). */
  superuser?: string;
  /** Password of the superuser (needed when authMethod asks for one). */
  superuserPassword?: string;
  /** Authentication for TCP connections in initdb's pg_hba.conf (default trust). Unix socket: trust. */
  authMethod?: HostAuthMethod;
  /** Fixed TCP port (default: a free one). */
  port?: number;
  /** listen_addresses (default "127.0.0.1"; "" = unix socket only). */
  listen?: string;
  /** Parent of the base directory (default os.tmpdir()). */
  tmpDir?: string;
  /**
   * Keep postgresql.conf, pg_hba.conf and pg_ident.conf in this directory instead of the data
   * directory, as Debian does (/etc/postgresql/<major>/<name>): the server is started with
   * config_file pointing there, and that file sets data_directory, hba_file and ident_file.
   */
  configDir?: string;
}

export interface LocalClusterAttachOptions {
  pgBin?: string;
  /** TCP port to use (default: a free one). */
  port?: number;
  superuser?: string;
  settings?: Record<string, ConfValue>;
  hba?: string[];
  /** destroy() also removes the data directory (default false: only our temp directory). */
  removeDataDir?: boolean;
  /**
   * listen_addresses (default "": unix socket only). With TCP, pg_hba.conf never trusts a host
   * line (restored-hba.ts).
   */
  listen?: string;
  tmpDir?: string;
}

export interface StartOptions {
  /** Wait until the server accepts connections (default true). */
  wait?: boolean;
  /** Seconds pg_ctl waits (default 120). */
  timeoutSeconds?: number;
}

/** What LocalCluster's constructor is given by create() and attach(). */
export interface ClusterInit {
  baseDir: string;
  dataDir: string;
  binDir: string;
  major: number;
  version: string;
  superuser: string;
  port: number;
  portIsFixed: boolean;
  removeDataDir: boolean;
  listen: string;
}

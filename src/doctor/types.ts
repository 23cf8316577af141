/** What `doctor` checks and reports. */
import type { PgkeepError } from '../errors.js';
import type { ArchiverStats, HbaRule, ReplicationUsage, RoleFacts, ServerInfo, Setting, SlotFacts } from '../pg/catalog.js';

export type { SlotFacts } from '../pg/catalog.js';
import type { ControlData } from '../pg/control.js';
import type { ClusterLayout } from '../pg/layout.js';
import type { PgTool } from '../pg/bin.js';

/** The backup methods doctor can check for. */
export const DOCTOR_METHODS = ['stream', 'local', 'cold', 'archive', 'logical'] as const;
export type DoctorMethod = (typeof DOCTOR_METHODS)[number];

/** Where a check is listed: `server` holds the checks several methods share. */
export type CheckSection = 'server' | DoctorMethod;
export const SECTION_ORDER: CheckSection[] = ['server', ...DOCTOR_METHODS];

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';

/** What applying the fix takes: nothing more, `pg_ctl reload` / SELECT pg_reload_conf(), or a restart. */
export type FixNeeds = 'reload' | 'restart' | 'none';

export interface DoctorCheck {
  /** The section it is listed in (the method it belongs to, or `server` when shared). */
  method: CheckSection;
  /** Stable identifier: reachable, version, wal_level, max_wal_senders, hba_replication... */
  check: string;
  status: CheckStatus;
  /** What was found, in a sentence. */
  message: string;
  /** The exact change to make (config lines, SQL, command); null when nothing is to be done. */
  fix: string | null;
  needs: FixNeeds;
  /** The methods this check matters for. */
  usedBy: DoctorMethod[];
}

export interface MethodSummary {
  method: DoctorMethod;
  /** ready = all PASS, warnings = some WARN, not ready = some FAIL. */
  verdict: 'ready' | 'warnings' | 'not ready';
  fail: number;
  warn: number;
}

export interface DoctorReport {
  /** Who/where was checked ("postgres@/tmp/x:5432/postgres"), never with a password. */
  target: string;
  methods: DoctorMethod[];
  checks: DoctorCheck[];
  summary: MethodSummary[];
  /** True when no check FAILed. */
  ok: boolean;
}

/** Everything doctor found out, gathered once; the checks are pure functions of it. */
export interface DoctorFacts {
  methods: DoctorMethod[];
  target: string;
  /** Connecting over a unix socket. */
  socket: boolean;
  /** The user the connection asked for (from the connection settings). */
  user: string;
  connectionError?: PgkeepError;
  server?: ServerInfo;
  settings?: Setting[];
  role?: RoleFacts;
  usage?: ReplicationUsage;
  /** pg_hba_file_rules; null = not allowed to read them; undefined = not asked. */
  hbaRules?: HbaRule[] | null;
  /** Result of opening a replication connection (tried when the rules cannot be read). */
  replicationProbe?: { ok: true } | { ok: false; message: string };
  archiver?: ArchiverStats;
  pgdata?: PgdataFacts;
  /** Client tools for `logical`, by name: the tool found or the error saying why not. */
  tools?: Record<string, PgTool | PgkeepError>;
  /** Where the cluster's files are and which commands manage it (from data_directory/config_file or pgdata). */
  layout?: ClusterLayout;
  /** The OS user owning the data directory (the server's), when known. */
  osUser?: string;
  /** That user, when doctor runs as another one (commands for pg_ctl are then run through sudo -u). */
  commandUser?: string;
  /** The file and line each setting is set in now (a postgresql.conf line is overridden by a later one). */
  settingSources?: Record<string, SettingSource>;
  /** Physical and logical replication slots with how much WAL each holds. */
  slots?: SlotFacts[];
  /** Can the role read every table (pg_dump): null = could not tell. */
  readAccess?: ReadAccessFacts;
  /** Can the server's OS user reach what archive_command needs (repository, passphrase, config)? */
  archiveAccess?: ArchiveAccessFacts;
  /** The end-to-end archive check (--check-archive). */
  archiveProbe?: ArchiveProbeFacts;
  /** Whether a server process runs on the data directory (postmaster.pid + pg_isready), when unreachable. */
  serverProcess?: ServerProcessFacts;
  /** For the archive_command suggestion: the config file and cluster name in use. */
  configFile?: string;
  clusterName: string;
}

export interface PgdataFacts {
  /** As configured (pgdata setting or --pgdata); undefined when not set. */
  configured?: string;
  realpath?: string;
  /** realpath of the server's data_directory (when visible and present on this machine). */
  serverRealpath?: string;
  /** Why it cannot be used (missing, permission denied...). */
  problem?: string;
  control?: ControlData;
  controlError?: string;
  /** The control file is unread because no pg_controldata of this major (the data directory's) is installed. */
  controlToolMajor?: number;
}

export interface ReadAccessFacts {
  /** Member of pg_read_all_data (PostgreSQL 14+). */
  readAllData: boolean;
  /** Tables, views, sequences in the connected database the role may not SELECT (first few). */
  unreadable: string[];
  unreadableCount: number;
  /** Every schema holding one of them (all, not the first few): the GRANTs advised before 14 name them. */
  unreadableSchemas: string[];
}

export interface PathAccess {
  /** What the path is for: repository, passphrase file, config file... */
  what: string;
  path: string;
  /** The access that is needed: 'r', 'rw' (directory: rwx). */
  need: 'r' | 'rw';
  ok: boolean;
  /** Why not (EACCES, ENOENT...). */
  error?: string;
  /** Owner and mode of the path, for the fix. */
  owner?: string;
  mode?: string;
}

export interface ArchiveAccessFacts {
  /** The OS user the server (and so archive_command) runs as. */
  osUser: string;
  /** The config file and repository archive_command will use, as far as can be told. */
  configFile?: string;
  repo?: string;
  checks: PathAccess[];
  /** archive_command's configuration cannot be loaded (it fails the same way for the server). */
  configError?: string;
  /** Could not check (not root, not the server user; the server on another host...). */
  skipped?: string;
}

export interface ArchiveProbeFacts {
  ok: boolean;
  /** The segment pg_switch_wal() completed. */
  segment?: string;
  waitedMs: number;
  timeoutMs: number;
  /** Where it was found (the repository object). */
  object?: string;
  error?: string;
  lastFailedWal?: string | null;
  lastFailedTime?: Date | null;
  /** The last archive error lines of the server log, when readable. */
  logLines?: string[];
  logFile?: string;
}

export interface ServerProcessFacts {
  /** postmaster.pid exists in the data directory. */
  pidFile: boolean;
  /** The process it names is alive. */
  alive: boolean;
  pid?: number;
  /** pg_isready's verdict: accepting, rejecting, no response, or not run. */
  isReady?: 'accepting' | 'rejecting' | 'no response' | 'unknown';
}

export interface SettingSource {
  file: string;
  line: number;
}

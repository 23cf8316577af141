/** What `doctor` checks and reports. */
import type { PgkeepError } from '../errors.js';
import type { ArchiverStats, HbaRule, ReplicationUsage, RoleFacts, ServerInfo, Setting } from '../pg/catalog.js';
import type { ControlData } from '../pg/control.js';
import type { PgTool } from '../pg/tools.js';

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
}

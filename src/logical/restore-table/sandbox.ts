/**
 * The sandbox: a throwaway copy of the whole cluster, restored from a physical backup into a
 * temp directory, recovered from the WAL archive to the target time and promoted (so the table
 * can be renamed in it before the dump), then removed.
 *
 * The sandbox must never act on anything outside itself, so its settings (appended to
 * postgresql.auto.conf, which wins over every other file) switch off what a copy of a
 * production configuration would otherwise do:
 * - archive_mode = off (restore's --archive-mode off): its new timeline is never pushed into the
 *   production archive; archive_command = '' as well;
 * - no primary_conninfo / slot: it never connects to a primary;
 * - synchronous_standby_names = '': its writes never wait for a standby;
 * - max_logical_replication_workers = 0: subscriptions copied from the source never start
 *   (they would consume the publisher's slot);
 * - no logging collector or SSL, its own external pid file (paths of the source);
 * and it listens on no TCP port, only on a socket in its own directory that only its OS user
 * may open (unix_socket_permissions = 0700).
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError, toPgkeepError } from '../../errors.js';
import type { ConfValue } from '../../pg/conf-file.js';
import { LocalCluster } from '../../pg/local-cluster.js';
import { pgToolPath } from '../../pg/bin.js';
import { serverOsUser } from '../../pg/server-user.js';
import type { Repository } from '../../repo/index.js';
import { readPhysicalMeta } from '../../holdings/read-physical-meta.js';
import {
  disablePlacementSettings,
  logSize,
  restore,
  waitForRecoveryEnd,
  type RecoveryEnd,
  type RepositoryAccess,
  type RestoreResult,
  type TablespaceMapping,
} from '../../restore/index.js';
import { shellQuote } from '../../shell-quote.js';
import { cleanSpoolRoot, defaultSpoolRoot } from '../../wal/index.js';

export interface Sandbox {
  /** The temp directory holding everything (data/, the socket, the log). */
  dir: string;
  dataDir: string;
  /** The server binaries of the backup's major (default: pg/bin.ts's search). */
  binDir?: string;
  cluster?: LocalCluster;
}

/** Settings that keep the sandbox to itself (see the file comment). */
export const SANDBOX_SETTINGS: Record<string, ConfValue> = {
  archive_command: '',
  primary_conninfo: '',
  primary_slot_name: '',
  synchronous_standby_names: '',
  max_logical_replication_workers: 0,
  hot_standby: 'on',
  logging_collector: 'off',
  log_destination: 'stderr',
  ssl: 'off',
  archive_cleanup_command: '',
  recovery_end_command: '',
};

export async function createSandbox(parent?: string, binDir?: string): Promise<Sandbox> {
  const dir = await mkdtemp(join(parent ?? tmpdir(), 'pgkeep-restore-table-'));
  return { dir, dataDir: join(dir, 'data'), ...(binDir ? { binDir } : {}) };
}

export interface SandboxRestoreInput {
  repo: Repository;
  clusterName: string;
  snapshotId: string;
  access: RepositoryAccess;
  /** recovery_target* settings (from the PITR plan). */
  recoverySettings: Record<string, ConfValue>;
  signal?: AbortSignal;
  onBytes?: (done: number, total: number) => void;
}

/**
 * Every tablespace of the backup goes into the sandbox's own directory (tablespaces/<oid>): the
 * sandbox is throwaway, and the recorded locations are the live server's tablespaces.
 */
export async function sandboxTablespaces(sb: Sandbox, repo: Repository, cluster: string, snapshotId: string): Promise<TablespaceMapping[]> {
  const { tablespaces } = readPhysicalMeta(await repo.readManifest(cluster, snapshotId));
  if (tablespaces.length) {
    // Searchable (not readable) by the server's OS user; each tablespace directory in it is its own (0700).
    await mkdir(join(sb.dir, 'tablespaces'), { mode: 0o711 });
    await chmod(join(sb.dir, 'tablespaces'), 0o711);
  }
  return tablespaces.map((t) => ({ from: String(t.oid), to: join(sb.dir, 'tablespaces', String(t.oid)) }));
}

/** Restore the backup into the sandbox with the recovery settings and the sandbox's own. */
export async function restoreSandbox(sb: Sandbox, i: SandboxRestoreInput): Promise<RestoreResult> {
  const tablespaceMap = await sandboxTablespaces(sb, i.repo, i.clusterName, i.snapshotId);
  return restore({
    repo: i.repo,
    cluster: i.clusterName,
    id: i.snapshotId,
    to: sb.dataDir,
    access: i.access,
    tablespaceMap,
    archiveMode: 'off',
    recovery: {
      fromArchive: true,
      // external_pid_file: the source's would be overwritten; '' is taken for a file name by the server.
      settings: { ...i.recoverySettings, ...SANDBOX_SETTINGS, external_pid_file: join(sb.dataDir, 'external.pid') },
    },
    sync: false,
    signal: i.signal,
    onProgress: (p) => i.onBytes?.(p.bytesDone, p.bytesTotal),
  }).catch((e: unknown) => {
    throw sandboxRestoreError(e);
  });
}

/** restore's hints name restore's options; restore-table places the sandbox itself, so its hint says what it takes. */
function sandboxRestoreError(e: unknown): unknown {
  if (!(e instanceof PgkeepError) || !/--(tablespace-map|delta|to|archive-mode|start|listen|port)\b/.test(e.hint ?? '')) return e;
  const err = new PgkeepError(e.code, `restoring the sandbox failed: ${e.message}`, {
    hint: 'the sandbox (and every tablespace of the backup) goes under --sandbox-dir (default: the temp directory): give an empty directory with room for the whole cluster',
    details: e.details,
    cause: e,
  });
  err.notes.push(...e.notes);
  return err;
}

/**
 * Start the sandbox and wait until recovery has reached the target and promoted. A server that
 * stops because the archive ends before the target is reported as NOT_FOUND.
 */
export async function recoverSandbox(sb: Sandbox, superuser: string, what: string, signal?: AbortSignal): Promise<RecoveryEnd> {
  const auto = join(sb.dataDir, 'postgresql.auto.conf');
  if (existsSync(auto)) {
    const text = await readFile(auto, 'utf8');
    const fixed = disablePlacementSettings(text);
    if (fixed !== text) await writeFile(auto, fixed);
  }
  const cluster = await LocalCluster.attach(sb.dataDir, {
    // The socket lives in a short temp path (a socket path has at most 107 bytes), not under the sandbox.
    superuser,
    hba: ['local all all trust'],
    pgBin: sb.binDir,
    settings: {
      listen_addresses: '',
      unix_socket_permissions: '0700',
      // A copied postgresql.conf may point these at the source's files: use the sandbox's.
      data_directory: sb.dataDir,
      hba_file: join(sb.dataDir, 'pg_hba.conf'),
      ident_file: join(sb.dataDir, 'pg_ident.conf'),
    },
  });
  sb.cluster = cluster;
  const logFrom = logSize(cluster);
  try {
    await cluster.start({ timeoutSeconds: 3600 });
    return await waitForRecoveryEnd(cluster, 'promote', { logFrom, signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw recoveryFailed(e, cluster, what);
  }
}

function recoveryFailed(e: unknown, cluster: LocalCluster, what: string): unknown {
  const err = toPgkeepError(e);
  const log = cluster.logTail(40);
  if (/recovery ended before configured recovery target was reached/.test(log + err.message)) {
    return new PgkeepError('NOT_FOUND', `recovering ${what}: the archived WAL ends before the target time`, {
      hint:
        'the WAL covering the target may not be archived yet: on the server run SELECT pg_switch_wal(), wait until ' +
        'pg_stat_archiver shows it archived, and try again ("pgkeep wal check" shows the archive)',
      details: { logFile: cluster.logFile, log: log.split('\n').slice(-15) },
      cause: e,
    });
  }
  return new PgkeepError(err.code, `recovering ${what} in the sandbox failed: ${err.message}`, {
    hint: err.hint ?? `the sandbox's server log: ${cluster.logFile} (keep it with --keep-sandbox)`,
    details: err.details,
    cause: e,
  });
}

/** How to start a kept sandbox by hand. */
export function startCommand(sb: Sandbox): string {
  const bin = sb.cluster?.binDir;
  const log = sb.cluster?.logFile ?? join(sb.dir, 'server.log');
  const cmd = `${shellQuote(bin ? pgToolPath(bin, 'pg_ctl') : 'pg_ctl')} start -D ${shellQuote(sb.dataDir)} -l ${shellQuote(log)}`;
  const user = serverOsUser();
  return user ? `su ${user.name} -c ${shellQuote(cmd)}` : cmd;
}

/** Stop and remove the sandbox (keep: stop it and leave the files). Never throws. */
export async function dropSandbox(sb: Sandbox, keep: boolean): Promise<string[]> {
  const problems: string[] = [];
  try {
    // A recovery that stopped before its end (paused at the target, or failed) never ran
    // recovery_end_command: its prefetcher may still write into the spool under the data
    // directory (a kept sandbox is left stopped: nothing running in it), and a file it makes
    // while the directory is removed fails that (ENOTEMPTY). The spool is only a cache.
    await cleanSpoolRoot(defaultSpoolRoot(sb.dataDir)).catch(() => undefined);
    if (keep) {
      await sb.cluster?.stop('fast');
      sb.cluster?.detach();
      return problems;
    }
    await sb.cluster?.destroy();
  } catch (e) {
    problems.push(`stopping the sandbox: ${(e as Error).message}`);
  }
  if (!keep) {
    try {
      await rm(sb.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
    } catch (e) {
      problems.push(`removing the sandbox ${sb.dir}: ${(e as Error).message}`);
    }
  }
  return problems;
}

/**
 * What the restored cluster does when it starts, and the files that tell it so.
 *
 * - cold backup: nothing (the cluster was shut down cleanly; it simply starts);
 * - standalone hot backup: crash recovery from backup_label with the WAL stored in pg_wal/;
 * - other hot backups: archive recovery — recovery.signal plus a restore_command that runs
 *   `pgkeep wal get %f %p` against this repository.
 *
 * `planRecovery` decides (pure); `writeRecoveryConfig` writes recovery.signal and the settings at
 * the end of postgresql.auto.conf (which wins over postgresql.conf). Point-in-time recovery
 * (src/restore/pitr/) plans the target and passes `{ fromArchive: true, settings: { recovery_target_*
 * } }` here: a target turns any backup, cold and standalone ones included, into archive recovery.
 * Every restore that recovers from pgkeep's archive is planned that way (pitr/archive-recovery.ts).
 *
 * Settings that are not about recovery but must hold in the restored cluster whatever its
 * recovery mode (`--archive-mode off`: archive_mode = off) are the plan's `overrides`; they are
 * written to postgresql.auto.conf for cold and standalone restores too.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { formatConfLine, type ConfValue } from '../pg/conf-file.js';
import type { RepositoryAccess } from './types.js';
import { applyOwner, type Owner } from './ownership.js';
import { archiveModeSettings, type ArchiveModeOption } from './archive-mode.js';
import { shellQuote } from '../shell-quote.js';
import { DEFAULT_PREFETCH } from '../wal/index.js';

/** What the caller asks beyond the default recovery (issue 5 adds targets here). */
export interface RecoveryRequest {
  /** Recover from the WAL archive even when the backup needs none (cold, standalone). */
  fromArchive?: boolean;
  /** Further recovery settings (recovery_target_time, recovery_target_action, ...). */
  settings?: Record<string, ConfValue>;
}

export type RecoveryMode = 'none' | 'crash-recovery' | 'archive-recovery';

export interface RecoveryPlan {
  mode: RecoveryMode;
  /** Signal file to create in the data directory. */
  signal?: 'recovery.signal';
  /** Recovery settings for postgresql.auto.conf. */
  settings: Record<string, ConfValue>;
  /** Other settings for postgresql.auto.conf, written whatever the mode (archive_mode = off). */
  overrides: Record<string, ConfValue>;
  /** restore_command is pgkeep's (`wal get` from this repository), not one the request gave. */
  fromRepository?: boolean;
  warnings: string[];
}

export interface RecoveryInput {
  meta: PhysicalBackupMeta;
  access: RepositoryAccess;
  request?: RecoveryRequest;
  /** The repository is encrypted (restore_command then needs a passphrase file). */
  encrypted: boolean;
  /** `--archive-mode` (default preserve). */
  archiveMode?: ArchiveModeOption;
  /** Programs in restore_command (default: this node, as PGKEEP_NODE, and this checkout's sh front bin/pgkeep). */
  nodePath?: string;
  pgkeepScript?: string;
}

/** Settings pgkeep owns in postgresql.auto.conf: stale copies (from the source) are dropped. */
const MANAGED = /^(restore_command|recovery_target(_\w+)?|recovery_end_command)$/;

const MARK = '# recovery settings written by pgkeep restore';

/** The sh front (bin/pgkeep): it serves prefetched segments without starting node, and runs node for the rest. */
export function defaultPgkeepScript(): string {
  return fileURLToPath(new URL('../../bin/pgkeep', import.meta.url));
}

/** Decide the recovery mode and settings. Pure. */
export function planRecovery(input: RecoveryInput): RecoveryPlan {
  const { meta, request = {} } = input;
  const hot = meta.method !== 'cold';
  const archive = request.fromArchive || Object.keys(request.settings ?? {}).length > 0 || (hot && !meta.standalone);
  const overrides = archiveModeSettings(input.archiveMode);
  if (!archive) return { mode: hot ? 'crash-recovery' : 'none', settings: {}, overrides, warnings: [] };
  const warnings: string[] = [];
  if (request.settings?.restore_command !== undefined) {
    // The request's own restore_command (a standalone backup's own WAL only, a caller's): nothing of the repository's is needed.
    return {
      mode: 'archive-recovery',
      signal: 'recovery.signal',
      settings: { ...request.settings },
      overrides,
      warnings,
      fromRepository: false,
    };
  }
  const command = restoreCommand(input.access, {
    nodePath: input.nodePath,
    pgkeepScript: input.pgkeepScript,
    systemIdentifier: meta.systemIdentifier,
  });
  if (input.encrypted && !input.access.passphraseFile) {
    warnings.push(
      'the repository is encrypted, and restore_command has no passphrase file' +
        (input.access.passphraseFromEnv ? " (PGKEEP_PASSPHRASE is not in the server's environment)" : '') +
        ": restore again with --passphrase-file FILE readable by the server's OS user, or edit restore_command in postgresql.auto.conf",
    );
  }
  if (/^s3:\/\//.test(input.access.repo)) {
    warnings.push(
      "the repository is on S3: the server's environment must hold its credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or a profile) for restore_command to work",
    );
  }
  return {
    mode: 'archive-recovery',
    signal: 'recovery.signal',
    settings: { restore_command: command, ...spoolCleanSetting(input.access, input), ...request.settings },
    overrides,
    warnings,
    fromRepository: true,
  };
}

/** The programs of the commands restore writes, and the backup's system (restore_command names it). */
interface Programs {
  nodePath?: string;
  pgkeepScript?: string;
  systemIdentifier?: string;
}

/**
 * `PGKEEP_NODE=<node> '<bin/pgkeep>' --repo R --cluster C [--config F] [--passphrase-file F] wal get
 * [--prefetch N --system-id S] %f %p`: absolute paths (the server runs it from the data directory,
 * as its own OS user, with its own environment and PATH: the node that ran the restore is named),
 * each argument quoted for sh, "%" doubled so the server substitutes only %f/%p. The shape with
 * --prefetch and --system-id is the one the sh front serves from the spool without node.
 */
export function restoreCommand(access: RepositoryAccess, programs: Programs = {}): string {
  const args = [...restoreGlobalArgs(access), 'wal', 'get'];
  const prefetch = prefetchOf(access);
  if (prefetch > 0) args.push('--prefetch', String(prefetch));
  if (prefetch > 0 && programs.systemIdentifier) args.push('--system-id', programs.systemIdentifier);
  return `${pgkeepCommand(programs, args)} %f %p`;
}

/** pgkeep's global arguments in restore_command (the prefetcher restore starts gets the same). */
export function restoreGlobalArgs(access: RepositoryAccess): string[] {
  const args = ['--repo', absoluteRepo(access.repo), '--cluster', access.cluster];
  if (access.configFile) args.push('--config', resolve(access.configFile));
  if (access.passphraseFile) args.push('--passphrase-file', resolve(access.passphraseFile));
  return args;
}

/** `PGKEEP_NODE=<node> <front> args...`, for the server's sh (the assignment's name stays unquoted). */
function pgkeepCommand(programs: Programs, args: string[]): string {
  const quote = (a: string) => shellQuote(a).replace(/%/g, '%%');
  const front = programs.pgkeepScript ?? defaultPgkeepScript();
  return [`PGKEEP_NODE=${quote(programs.nodePath ?? process.execPath)}`, quote(front), ...args.map(quote)].join(' ');
}

export function prefetchOf(access: RepositoryAccess): number {
  return access.prefetch ?? DEFAULT_PREFETCH;
}

/**
 * With prefetch, recovery_end_command stops the prefetcher and removes the spool
 * (`<data dir>/pg_wal/pgkeep-spool`) when recovery ends. PostgreSQL only warns when it fails.
 */
function spoolCleanSetting(access: RepositoryAccess, programs: Programs): Record<string, ConfValue> {
  if (prefetchOf(access) === 0) return {};
  return { recovery_end_command: pgkeepCommand(programs, ['--cluster', access.cluster, 'wal', 'spool-clean']) };
}

function absoluteRepo(repo: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || isAbsolute(repo) ? repo : resolve(repo);
}

/**
 * New postgresql.auto.conf text: the lines of the settings pgkeep manages, of the settings
 * written now (and earlier pgkeep blocks) removed, the settings appended. Pure.
 */
export function renderAutoConf(current: string, settings: Record<string, ConfValue>, note: string): string {
  const written = new Set(Object.keys(settings).map((k) => k.toLowerCase()));
  const kept = current.split('\n').filter((line) => {
    if (line.startsWith(MARK)) return false;
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=?/.exec(line);
    return !(m && (MANAGED.test(m[1]!.toLowerCase()) || written.has(m[1]!.toLowerCase())));
  });
  while (kept.length && kept[kept.length - 1] === '') kept.pop();
  const lines = Object.entries(settings).map(([k, v]) => formatConfLine(k, v));
  if (lines.length === 0) return kept.length ? kept.join('\n') + '\n' : '';
  return [...kept, `${MARK} (${note})`, ...lines].join('\n') + '\n';
}

/**
 * Write recovery.signal and the recovery settings (archive recovery), and the overrides (any
 * mode); `owner` gets the new files (when root).
 */
export async function writeRecoveryConfig(dataDir: string, plan: RecoveryPlan, note: string, owner?: Owner): Promise<void> {
  const recovering = plan.mode === 'archive-recovery';
  const settings = { ...(recovering ? plan.settings : {}), ...(plan.overrides ?? {}) };
  if (Object.keys(settings).length > 0) {
    const auto = join(dataDir, 'postgresql.auto.conf');
    const existed = existsSync(auto);
    const current = existed
      ? await readFile(auto, 'utf8')
      : '# Do not edit this file manually!\n# It will be overwritten by the ALTER SYSTEM command.\n';
    await writeFile(auto, renderAutoConf(current, settings, note), { mode: 0o600 });
    if (!existed) await applyOwner(auto, owner);
  }
  if (recovering && plan.signal) {
    const signal = join(dataDir, plan.signal);
    await writeFile(signal, '', { mode: 0o600 });
    await applyOwner(signal, owner);
  }
}

/** Can `owner` read `path` (and search every directory above it)? Judged from mode bits. */
function readableBy(path: string, owner: Owner): boolean {
  const can = (p: string, bit: number): boolean => {
    const st = statSync(p);
    if (owner.uid === 0) return true;
    if (st.uid === owner.uid) return (st.mode & (bit << 6)) !== 0;
    if (st.gid === owner.gid) return (st.mode & (bit << 3)) !== 0;
    return (st.mode & bit) !== 0;
  };
  try {
    const abs = resolve(path);
    for (let dir = dirname(abs); ; dir = dirname(dir)) {
      if (!can(dir, 1)) return false;
      if (dirname(dir) === dir) break;
    }
    return can(abs, statSync(abs).isDirectory() ? 5 : 4);
  } catch {
    return false;
  }
}

/**
 * restore_command runs as the server's OS user: warn when that user cannot read what it needs
 * (a repository, passphrase file or config file only root can read).
 */
export function accessWarnings(plan: RecoveryPlan, access: RepositoryAccess, serverOwner: Owner | undefined): string[] {
  if (plan.mode !== 'archive-recovery' || !plan.fromRepository || !serverOwner) return [];
  const needs: [string, string | undefined][] = [
    ['the repository', /^[a-z][a-z0-9+.-]*:\/\//i.test(access.repo) ? undefined : access.repo],
    ['the passphrase file', access.passphraseFile],
    ['the config file', access.configFile],
    ['pgkeep', defaultPgkeepScript()],
  ];
  return needs
    .filter(([, p]) => p !== undefined && !readableBy(p, serverOwner))
    .map(
      ([what, p]) =>
        `${what} (${p}) is not readable by the server's OS user (uid ${serverOwner.uid}), which runs restore_command: grant it read access`,
    );
}

/**
 * `restore --plan` (--dry-run): what a restore with the same options would do, through the same
 * planning steps (prepare.ts: backup chosen, archive checked, target checked and refused the same
 * way), then keep-wal's and remove-strays' decisions and a chunk-by-chunk comparison of every file
 * with the target — writing nothing, not even the copy of unarchived WAL.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { withRepoLockWarnings } from '../repo/with-lock.js';
import { withChunks } from '../repo/index.js';
import { prepareRestore, writtenAfterStrays } from './prepare.js';
import { decideKeptWal, findUnarchivedWal, walAsideDir, unarchivedWalWarning } from './keep-wal.js';
import { removeStrays } from './remove-strays.js';
import { compareLocalFile } from './restore-file.js';
import { restoredStartCommand } from './start-command.js';
import type { PlannedEntry } from './plan.js';
import type { PitrPlan, WalUsed } from './pitr/types.js';
import { configReport, type PlacedConfigFile } from './external-config.js';
import type { RestoredTablespace, RestoreOptions, UnarchivedWal } from './types.js';

export type PlannedAction = 'create' | 'replace' | 'update';

export interface PlannedWrite {
  /** Relative to the data directory (tablespace files: absolute). */
  path: string;
  action: PlannedAction;
  type: 'file' | 'directory' | 'symlink';
  /** Files: chunks that would be written. */
  chunks?: number;
}

export interface RestoreDryRun {
  snapshotId: string;
  cluster: string;
  method: string;
  standalone: boolean;
  serverVersion: string;
  backup: { timeline: number; startLsn: string; stopLsn: string; walStart: string; walEnd: string; stopTime: string };
  dataDir: string;
  delta: boolean;
  target: { exists: boolean; nonEmpty: boolean; interrupted?: string };
  tablespaces: RestoredTablespace[];
  recovery: { mode: string; signal?: string; settings: Record<string, string> };
  pitr?: PitrPlan;
  wal?: WalUsed;
  configuration?: { dir: string; files: PlacedConfigFile[]; used: boolean; missing: { role: string; path: string; error: string }[] };
  /** Entries of the snapshot the restore would write, and how many it would leave as they are. */
  writes: PlannedWrite[];
  unchanged: number;
  /** --delta: entries of the data directory it would remove (relative). */
  removes: string[];
  /** --delta: WAL in pg_wal the archive lacks (savedTo: where it would be copied, time stamp of now). */
  unarchivedWal?: UnarchivedWal;
  /** Files pgkeep itself writes (recovery settings, configuration), absolute. */
  pgkeepWrites: string[];
  startCommand: string;
  warnings: string[];
}

export async function dryRunRestore(o: RestoreOptions): Promise<RestoreDryRun> {
  return withRepoLockWarnings(o.repo, 'shared', 'restore --plan', o.cluster, () => dryRunUnlocked(o));
}

async function dryRunUnlocked(o: RestoreOptions): Promise<RestoreDryRun> {
  const pr = await prepareRestore(o, () => o.signal?.throwIfAborted());
  const { dataDir, plan, recovery, meta, target, config } = pr;
  const warnings = [...pr.warnings];

  let unarchivedWal: UnarchivedWal | undefined;
  let keepPaths: string[] = [];
  if (pr.delta && target.nonEmpty) {
    const files = await findUnarchivedWal(dataDir, o.repo, o.cluster, meta.systemIdentifier, o.signal);
    if (files.length > 0) {
      ({ report: unarchivedWal, keepPaths } = decideKeptWal(files, walAsideDir(dataDir), recovery.mode === 'archive-recovery', plan.keep));
      warnings.push(unarchivedWalWarning(unarchivedWal));
    }
  }
  const removes =
    pr.delta && target.nonEmpty ? await removeStrays(dataDir, plan.keep, [...writtenAfterStrays(pr), ...keepPaths], o.signal, true) : [];

  const writes: PlannedWrite[] = [];
  let unchanged = 0;
  const rel = (e: PlannedEntry) => (e.local.startsWith(dataDir + '/') ? relative(dataDir, e.local) : e.local);
  const note = (e: PlannedEntry, w: Omit<PlannedWrite, 'path'> | undefined) => {
    if (w) writes.push({ path: rel(e), ...w });
    else unchanged++;
  };
  for (const d of plan.directories) note(d, await directoryAction(d.local));
  for (const s of plan.symlinks) note(s, await symlinkAction(s.local, s.record.linkTarget ?? ''));
  const scratch = Buffer.allocUnsafe(pr.snapshot.manifest.chunkSize);
  for (const f of [...plan.files, ...(plan.pgControl ? [plan.pgControl] : [])]) {
    o.signal?.throwIfAborted();
    const c = await compareLocalFile(await withChunks(pr.snapshot, f.record), f.local, scratch);
    note(f, c.action === 'same' ? undefined : { action: c.action, type: 'file', chunks: c.chunks });
  }

  const settings = { ...(recovery.mode === 'archive-recovery' ? recovery.settings : {}), ...recovery.overrides };
  const pgkeepWrites = [
    ...(Object.keys(settings).length > 0 ? [join(dataDir, 'postgresql.auto.conf')] : []),
    ...(recovery.mode === 'archive-recovery' && recovery.signal ? [join(dataDir, recovery.signal)] : []),
    ...(config ? [...config.texts.keys()] : []),
    ...(config?.dataDirBlock ? [join(dataDir, 'postgresql.conf')] : []),
  ];
  const major = Math.floor(meta.serverVersionNum / 10000);
  return {
    snapshotId: pr.snapshot.id,
    cluster: o.cluster,
    method: meta.method,
    standalone: Boolean(meta.standalone),
    serverVersion: meta.serverVersion,
    backup: {
      timeline: meta.timeline,
      startLsn: meta.startLsn,
      stopLsn: meta.stopLsn,
      walStart: meta.walStart,
      walEnd: meta.walEnd,
      stopTime: meta.stopTime,
    },
    dataDir,
    delta: pr.delta,
    target: {
      exists: target.exists,
      nonEmpty: target.nonEmpty,
      ...(target.interrupted ? { interrupted: target.interrupted.snapshot } : {}),
    },
    tablespaces: pr.placed,
    recovery: {
      mode: recovery.mode,
      ...(recovery.signal ? { signal: recovery.signal } : {}),
      settings: Object.fromEntries(Object.entries(recovery.settings).map(([k, v]) => [k, String(v)])),
    },
    ...(pr.pitr ? { pitr: pr.pitr, wal: pr.pitr.wal } : {}),
    ...(config ? { configuration: configReport(config) } : {}),
    writes,
    unchanged,
    removes,
    ...(unarchivedWal ? { unarchivedWal } : {}),
    pgkeepWrites,
    startCommand: await restoredStartCommand(dataDir, pr.layout, major, plan.ownerRecord?.owner, o.pgBin),
    warnings,
  };
}

async function directoryAction(path: string): Promise<Omit<PlannedWrite, 'path'> | undefined> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isDirectory()) return undefined;
  return { action: st ? 'replace' : 'create', type: 'directory' };
}

async function symlinkAction(path: string, target: string): Promise<Omit<PlannedWrite, 'path'> | undefined> {
  const st = await lstat(path).catch(() => undefined);
  if (st?.isSymbolicLink() && (await readlink(path)) === target) return undefined;
  return { action: st ? 'replace' : 'create', type: 'symlink' };
}

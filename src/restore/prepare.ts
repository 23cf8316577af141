/**
 * The steps a restore runs before it writes anything, shared by `restore` and `restore --plan`
 * (dry-run.ts), so the plan is what the restore would do:
 *
 *   plan archive recovery (choose the backup, check the target against the archive) -> resolve
 *   snapshot -> place tablespaces & plan recovery -> layout & external configuration -> read back
 *   the archived WAL the backup needs (check-needed-wal) -> check target (refusals) -> plan the entries
 *
 * Nothing here writes.
 */
import { resolve } from 'node:path';
import { PgkeepError } from '../errors.js';
import { resolveSnapshot } from '../holdings/physical-snapshot.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { requirePath } from '../config/paths.js';
import { refuseTargetOverlap } from '../repo/placement.js';
import { withoutChunks, type FileRecord, type Snapshot } from '../repo/index.js';
import { checkTarget, type TargetState } from './check-target.js';
import { checkNeededWalBeforeRestore } from './check-needed-wal.js';
import { OwnerResolver, type Owner } from './ownership.js';
import { planRestore, recordedTablespaces, type RestorePlan } from './plan.js';
import { accessWarnings, planRecovery, type RecoveryPlan, type RecoveryRequest } from './recovery-config.js';
import { planArchiveRecovery } from './pitr/archive-recovery.js';
import type { PitrPlan } from './pitr/types.js';
import { placeTablespaces } from './tablespace-map.js';
import { checkConfigTarget, planExternalConfig, type ConfigPlan } from './external-config.js';
import { restoredLayout, type RestoredLayout } from './start-command.js';
import { debianCtl, debianUnit } from '../pg/debian-layout.js';
import type { ArchiveModeOption } from './archive-mode.js';
import { serverBinariesFor } from './server-binaries.js';
import type { RestoredTablespace, RestoreOptions, RestoreStep } from './types.js';

export interface PreparedRestore {
  dataDir: string;
  delta: boolean;
  pitr?: PitrPlan;
  snapshot: Snapshot;
  meta: PhysicalBackupMeta;
  records: FileRecord[];
  placed: RestoredTablespace[];
  archiveMode: ArchiveModeOption;
  recovery: RecoveryPlan;
  layout: RestoredLayout;
  config?: ConfigPlan;
  target: TargetState;
  plan: RestorePlan;
  owners: OwnerResolver;
  /** Who the restored files belong to (when pgkeep runs as root): the server's OS user. */
  serverOwner?: Owner;
  /** Can that user read what restore_command needs (repository, passphrase and config files)? */
  serverCanRead: boolean;
  warnings: string[];
  /** --start: the binaries of the backup's major, found before anything is written. */
  serverBinDir?: string;
}

export async function prepareRestore(o: RestoreOptions, step: (s: RestoreStep) => void): Promise<PreparedRestore> {
  const dataDir = resolve(requirePath(o.to, 'the restore target (--to)'));
  const delta = Boolean(o.delta);

  step('resolve');
  const pitr: PitrPlan | undefined = await planArchiveRecovery(o);
  const { snapshot, meta } = await resolveSnapshot(o.repo, o.cluster, pitr?.snapshotId ?? o.id ?? 'latest');
  const records: FileRecord[] = [];
  for await (const r of snapshot.files()) records.push(withoutChunks(r)); // chunks read back file by file (file-chunks.ts)
  const placed = placeTablespaces(recordedTablespaces(records, meta), o.tablespaceMap ?? []);
  const request: RecoveryRequest | undefined = pitr
    ? { ...o.recovery, fromArchive: true, settings: { ...o.recovery?.settings, ...pitr.settings } }
    : o.recovery;
  const archiveMode = o.archiveMode ?? 'preserve';
  const recovery = planRecovery({ meta, access: o.access, request, encrypted: o.repo.encrypted, archiveMode });
  const layout = await restoredLayout(dataDir, o.debianConfigRoot);
  refuseStartOfDebianCluster(layout, Boolean(o.start));
  const serverBin = o.start ? await serverBinariesFor(Math.floor(meta.serverVersionNum / 10000), o.pgBin, 'restore --start') : undefined;
  const config = planExternalConfig(meta.externalConfig, dataDir, layout, o.configTo);
  const warnings = [...(pitr?.warnings ?? []), ...recovery.warnings, ...standaloneWarnings(meta, records), ...configWarnings(config)];
  if (o.configTo && !config)
    warnings.push(`--config-to ${o.configTo} has no effect: this backup holds no configuration from outside the data directory`);
  await checkNeededWalBeforeRestore(o.repo, o.cluster, snapshot.id, meta, o.signal);

  step('check-target');
  await refuseTargetOverlap(o.repo, [
    { what: 'the restore target', path: dataDir },
    ...placed.map((t) => ({ what: `the location of tablespace ${t.oid}`, path: t.to })),
  ]);
  const target = await checkTarget(dataDir, placed, delta, meta.systemIdentifier);
  await checkConfigTarget(config, Boolean(o.overwriteConfig));

  step('plan');
  const plan = planRestore(dataDir, records, placed);
  const owners = new OwnerResolver();
  const serverOwner = plan.ownerRecord ? owners.ownerOf(plan.ownerRecord) : undefined;
  const unreadable = accessWarnings(recovery, o.access, serverOwner);
  warnings.push(...unreadable);
  return {
    dataDir,
    delta,
    ...(pitr ? { pitr } : {}),
    snapshot,
    meta,
    records,
    placed,
    archiveMode,
    recovery,
    layout,
    ...(config ? { config } : {}),
    target,
    plan,
    owners,
    ...(serverOwner ? { serverOwner } : {}),
    serverCanRead: unreadable.length === 0,
    warnings,
    ...(serverBin ? { serverBinDir: serverBin.binDir } : {}),
  };
}

/**
 * --start runs a temporary server on a private socket with pgkeep's own settings; the data
 * directory of a cluster of /etc/postgresql is started by postgresql-common, with its configuration.
 */
function refuseStartOfDebianCluster(layout: RestoredLayout, start: boolean): void {
  if (!start || layout.kind !== 'debian') return;
  const c = layout.cluster;
  throw new PgkeepError(
    'USAGE',
    `--start does not start ${c.dataDirectory}, the data directory of the cluster ${c.major}/${c.name} of ${c.configDir}`,
    {
      hint: `restore without --start, then: ${debianCtl(c, 'start')} (or systemctl start ${debianUnit(c)})`,
    },
  );
}

/** Paths of the data directory the restore writes after remove-strays, which --delta must therefore leave. */
export function writtenAfterStrays(pr: Pick<PreparedRestore, 'recovery' | 'config'>): string[] {
  return [...(pr.recovery.signal ? [pr.recovery.signal] : []), ...(pr.config?.dataDirBlock ? ['postgresql.conf'] : [])];
}

/** Configuration files the backup names but could not store: the copy lacks them. */
function configWarnings(config: ConfigPlan | undefined): string[] {
  return (config?.missing ?? []).map(
    (m) =>
      `the backup's ${m.role} ${m.path} (outside the data directory) was not stored (${m.error}): the restored copy lacks it; provide it before starting`,
  );
}

/** A standalone backup should carry the WAL up to walEnd; say so when it does not. */
function standaloneWarnings(meta: { standalone?: boolean; walEnd?: string }, records: FileRecord[]): string[] {
  if (!meta.standalone || !meta.walEnd) return [];
  return records.some((r) => r.path === `pg_wal/${meta.walEnd}`)
    ? []
    : [`the backup is standalone but its snapshot lacks pg_wal/${meta.walEnd}; the server may not reach consistency without a WAL archive`];
}

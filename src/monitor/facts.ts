/**
 * One round of facts about one cluster: the server (archiver, slots, WAL position), its data
 * directory when readable here (.ready backlog, pg_wal's free space), the repository (backups and
 * `wal check`'s report) and the agent's state file. Each part that fails is recorded, never thrown:
 * the checks turn it into CRITICAL or UNKNOWN with the reason.
 */
import { readdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { PgkeepConfig } from '../config/types.js';
import { withClient } from '../pg/connect.js';
import { archiverStats, readSettings, serverInfo, slotFacts, walPosition } from '../pg/catalog.js';
import { openRepository } from '../repo/index.js';
import { passphraseGetter } from '../repo/passphrase.js';
import { listBackupsReport } from '../backup/index.js';
import { checkArchive } from '../wal/index.js';
import { readAgentState } from './agent-state.js';
import { newestDrillRecord } from '../holdings/drill-records.js';
import { agentPaths } from '../config/agent-paths.js';
import type { ClusterFacts } from './types.js';

export interface GatherOptions {
  /** Bound of the whole round (default 30 s); the server and repository are then reported unreachable. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** failed_count seen by the previous round: failures since then are reported even when archiving recovered. */
  previousFailedCount?: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The connection settings of a named cluster (flags and environment apply to the selected one). */
export function clusterSettingsOf(config: PgkeepConfig, cluster: string) {
  return cluster === config.clusterName ? config.cluster : (config.clusters[cluster] ?? {});
}

export async function gatherClusterFacts(config: PgkeepConfig, cluster: string, opts: GatherOptions = {}): Promise<ClusterFacts> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const facts: ClusterFacts = { cluster, at: new Date(), previousFailedCount: opts.previousFailedCount };
  const settings = clusterSettingsOf(config, cluster);
  await Promise.all([serverFacts(facts, settings, signal), repositoryFacts(facts, config, cluster, signal)]);
  pgdataFacts(facts, settings.pgdata);
  agentFacts(facts, config.monitor.stateFile ?? defaultAgentStateFile(config));
  return facts;
}

async function bounded<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) throw new Error(`${what}: no answer in time`);
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error(`${what}: no answer in time`));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function serverFacts(facts: ClusterFacts, settings: PgkeepConfig['cluster'], signal: AbortSignal): Promise<void> {
  try {
    facts.server = await bounded(
      withClient(settings, { signal, applicationName: 'pgkeep monitor' }, async (db) => {
        const info = await serverInfo(db);
        const conf = new Map((await readSettings(db, ['archive_mode', 'archive_command'])).map((s) => [s.name, s.setting]));
        const pos = await walPosition(db);
        return {
          inRecovery: info.inRecovery,
          dataDirectory: info.dataDirectory,
          archiveMode: conf.get('archive_mode') ?? 'off',
          archiveCommand: conf.get('archive_command') ?? '',
          archiver: await archiverStats(db),
          currentWalFile: pos.currentWalFile,
          segmentSize: pos.segmentSize,
          slots: await slotFacts(db, info.inRecovery),
        };
      }),
      signal,
      'the server',
    );
  } catch (e) {
    facts.serverError = message(e);
  }
}

async function repositoryFacts(facts: ClusterFacts, config: PgkeepConfig, cluster: string, signal: AbortSignal): Promise<void> {
  try {
    await bounded(
      (async () => {
        // Never asks on a terminal: the monitor runs unattended (PGKEEP_PASSPHRASE or the passphrase file).
        const repo = await openRepository({ ...config.repo, signal }, { getPassphrase: passphraseGetter(config.passphrase) });
        try {
          const listed = await listBackupsReport(repo, cluster);
          facts.backups = listed.rows;
          facts.walCheck = await checkArchive(repo, cluster, { signal });
          facts.drill = { newest: await newestDrillRecord(repo, cluster), maxRtoMs: config.drill?.maxRtoMs };
        } finally {
          await repo.closeAll();
        }
      })(),
      signal,
      'the repository',
    );
  } catch (e) {
    facts.repoError = message(e);
  }
}

/** The data directory as configured, else as the server says (when it is on this machine and readable). */
function pgdataFacts(facts: ClusterFacts, configured: string | undefined): void {
  const dir = configured ?? facts.server?.dataDirectory ?? undefined;
  if (!dir) {
    facts.pgdataProblem =
      'the data directory is not known (set pgdata in [cluster.NAME], or connect as a role that may read data_directory)';
    return;
  }
  const walDir = join(dir, 'pg_wal');
  try {
    facts.readyCount = readdirSync(join(walDir, 'archive_status')).filter((n) => n.endsWith('.ready')).length;
    const s = statfsSync(walDir);
    facts.walSpace = { path: walDir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch (e) {
    facts.pgdataProblem =
      `cannot read ${walDir}: ${(e as NodeJS.ErrnoException).code ?? message(e)} ` +
      "(run the monitor as root or as the server's OS user, on the server's host)";
  }
}

function agentFacts(facts: ClusterFacts, stateFile: string | undefined): void {
  try {
    facts.agent = readAgentState(stateFile);
  } catch (e) {
    facts.agentError = `cannot read the agent's state file ${stateFile}: ${message(e)}`;
  }
}

/** Where `pgkeep agent` keeps its state for this repository (docs/operations.md), when [monitor] state_file does not say. */
function defaultAgentStateFile(config: PgkeepConfig): string | undefined {
  return config.repo.path ? agentPaths(config, config.repo.path).stateFile : undefined;
}

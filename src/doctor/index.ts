/**
 * `pgkeep doctor`: is the server ready to be backed up with each method, and what exactly has
 * to change? Gather facts (all I/O), evaluate the checks (pure), summarize per method.
 */
import type { ClusterSettings, RepoSettings } from '../config/types.js';
import type { AskPassphrase } from '../repo/passphrase.js';
import { evaluateChecks, summarize } from './evaluate.js';
import { gatherFacts } from './facts.js';
import { DOCTOR_METHODS, type DoctorMethod, type DoctorReport } from './types.js';

export interface DoctorOptions {
  /** Methods to check (default: all). */
  methods?: DoctorMethod[];
  /** The [cluster.NAME] in use, for the suggested archive_command (default "main"). */
  clusterName?: string;
  configFile?: string;
  /** doctor's repository: checked for archive_command when it names none itself. */
  repo?: RepoSettings;
  /** The end-to-end archive check: switch WAL and wait for the segment in the repository. */
  checkArchive?: boolean;
  /** Its bound in milliseconds (default 60000). */
  archiveTimeoutMs?: number;
  /** How to ask for the passphrase of an encrypted repository the end-to-end check reads (cli/: the terminal). */
  askPassphrase?: AskPassphrase;
  signal?: AbortSignal;
}

export async function runDoctor(settings: ClusterSettings, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const methods = opts.methods?.length ? opts.methods : [...DOCTOR_METHODS];
  const facts = await gatherFacts(settings, {
    methods,
    clusterName: opts.clusterName ?? 'main',
    configFile: opts.configFile,
    signal: opts.signal,
    repo: opts.repo,
    checkArchive: opts.checkArchive,
    archiveTimeoutMs: opts.archiveTimeoutMs,
    askPassphrase: opts.askPassphrase,
  });
  const checks = evaluateChecks(facts);
  return {
    target: facts.target,
    methods,
    checks,
    summary: summarize(facts, checks),
    ok: !checks.some((c) => c.status === 'FAIL'),
  };
}

export { evaluateChecks, summarize } from './evaluate.js';
export { gatherFacts } from './facts.js';
export { evaluateHba, suggestHbaLine, parseIp, addressInNetwork, type HbaClient, type HbaVerdict } from './hba.js';
export { expectedArchiveCommand, isPgkeepArchiveCommand } from './checks/archive.js';
export * from './types.js';

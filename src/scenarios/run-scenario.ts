/**
 * `pgkeep scenario run NAME`: the server binaries are found first (and said when they are the npm
 * ones), a scenario whose client programs are missing is skipped with the package to install,
 * then the scenario runs its steps and returns its measured RPO and RTO.
 */
import { PgkeepError } from '../errors.js';
import { findScenario } from './catalog.js';
import { chooseServer, missingClientTool, type ServerChoice } from './server-choice.js';
import type { ScenarioResult, ScenarioRunOptions, SkippedScenario } from './types.js';

export interface RunScenarioOptions extends ScenarioRunOptions {
  /** Told which server binaries the run uses, before it starts. */
  onServer?: (s: ServerChoice) => void;
}

export async function runScenario(name: string, opts: RunScenarioOptions = {}): Promise<ScenarioResult | SkippedScenario> {
  const scenario = findScenario(name);
  const server = await chooseServer(opts.pgBin);
  opts.onServer?.(server);
  const missing = await missingClientTool(scenario.needsClientTools);
  if (missing) {
    return {
      scenario: scenario.name,
      skipped: `needs ${missing.tool}, which is not installed${server.fromNpm ? ' (the npm package holds the server only)' : ''}`,
      install: missing.install,
    };
  }
  const { s3, ...rest } = opts;
  const result = await scenario.run({ ...rest, ...(s3 && scenario.repositoryOnS3 ? { s3 } : {}), pgBin: opts.pgBin ?? server.binDir });
  const failed = result.checks.filter((c) => !c.ok);
  if (failed.length) {
    throw new PgkeepError('DATA_INTEGRITY', `scenario ${scenario.name}: ${failed.map((c) => c.what).join('; ')}: not so`, {
      details: { result },
    });
  }
  return result;
}

export function isSkipped(r: ScenarioResult | SkippedScenario): r is SkippedScenario {
  return 'skipped' in r;
}

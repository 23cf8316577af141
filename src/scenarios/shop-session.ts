/**
 * Run shop steps (the demo's or a scenario's) and clean up after them: every cluster the steps
 * started, the repository and the work directory are removed at the end or on failure — unless
 * `keep` on success, which leaves them and says how to reach and remove each.
 */
import { rmSync } from 'node:fs';
import type { LocalCluster } from '../pg/local-cluster.js';
import type { DemoState } from './demo-state.js';
import { keepCluster } from './demo.js';
import { runSteps, type NamedStep } from './run-steps.js';
import type { ScenarioResult, StepRecord } from './types.js';

export interface KeptCluster {
  connection: string;
  psql: string;
  dataDir: string;
  baseDir: string;
  stop: string;
  remove: string;
}

export interface ShopSessionResult {
  steps: StepRecord[];
  kept?: { label: string; cluster: KeptCluster }[];
  keptWorkDir?: string;
}

function clustersOf(s: DemoState): { label: string; cluster: LocalCluster; database?: string }[] {
  const all: { label: string; cluster: LocalCluster; database?: string }[] = [];
  if (s.cluster) all.push({ label: 'the original cluster', cluster: s.cluster });
  if (s.recovered) all.push({ label: 'the recovered cluster', cluster: s.recovered });
  for (const e of s.extra ?? []) all.push(e);
  return all;
}

export async function runShopSession<S extends DemoState>(
  steps: NamedStep<S>[],
  state: S,
  keepCluster: (c: LocalCluster) => KeptCluster,
): Promise<ShopSessionResult> {
  const opts = state.opts;
  let records: StepRecord[] = [];
  let ok = false;
  try {
    records = await runSteps(steps, state, opts);
    ok = true;
  } finally {
    if (!(ok && opts.keep)) {
      for (const c of clustersOf(state).reverse()) await c.cluster.destroy().catch(() => {});
      await state.repo?.close().catch(() => {});
      // The repository the run created on S3 (after a failure, best effort: the run's error is the one to see).
      await state.dropRepository?.().catch((e: unknown) => {
        if (ok) throw e;
      });
      if (state.workDir) rmSync(state.workDir, { recursive: true, force: true });
    }
  }
  if (!opts.keep) return { steps: records };
  await state.repo?.close().catch(() => {});
  return {
    steps: records,
    kept: clustersOf(state).map((c) => ({ label: c.label, cluster: keepCluster(c.cluster) })),
    ...(state.workDir ? { keptWorkDir: state.workDir } : {}),
  };
}

/** What --keep left, as a scenario reports it. */
export function keptList(r: ShopSessionResult): NonNullable<ScenarioResult['kept']> {
  const out: NonNullable<ScenarioResult['kept']> = (r.kept ?? []).map((k) => ({
    what: k.label,
    connect: k.cluster.psql,
    stop: k.cluster.stop,
    remove: k.cluster.remove,
  }));
  if (r.keptWorkDir) out.push({ what: 'the work directory (repository, dumps)', remove: `rm -rf ${r.keptWorkDir}` });
  return out;
}

/** A scenario's run: its steps in a shop session, then what it measured (read from the state after the steps). */
export async function runScenarioSteps<S extends DemoState>(
  scenario: string,
  steps: NamedStep<S>[],
  state: S,
  measured: (s: S) => Pick<ScenarioResult, 'rpo' | 'rto' | 'checks'>,
): Promise<ScenarioResult> {
  const r = await runShopSession(steps, state, (c) => keepCluster(c));
  return { scenario, steps: r.steps, ...measured(state), ...(state.opts.keep ? { kept: keptList(r) } : {}) };
}

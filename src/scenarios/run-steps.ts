/**
 * The one step runner of the demo and the scenarios: each named step announces itself (with its
 * narration, written from what earlier steps found), runs, and reports its result and timing
 * through `onStep`. Stops at the first failure or when the signal fires.
 */
import { PgkeepError } from '../errors.js';
import type { ScenarioStepEvent, StepRecord } from './types.js';

export interface NamedStep<S> {
  name: string;
  title: string;
  narration: (s: S) => string;
  run: (s: S) => Promise<unknown>;
}

export async function runSteps<S>(
  steps: NamedStep<S>[],
  state: S,
  opts: { signal?: AbortSignal; onStep?: (e: ScenarioStepEvent) => void },
): Promise<StepRecord[]> {
  const records: StepRecord[] = [];
  for (const [i, step] of steps.entries()) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new PgkeepError('INTERRUPTED', 'interrupted');
    const base = { index: i + 1, total: steps.length, name: step.name, title: step.title, narration: step.narration(state) };
    opts.onStep?.({ phase: 'start', ...base });
    const t0 = performance.now();
    const result = await step.run(state);
    const ms = Math.round(performance.now() - t0);
    records.push({ name: step.name, title: step.title, narration: base.narration, ms, result });
    opts.onStep?.({ phase: 'end', ...base, ms, result });
  }
  return records;
}

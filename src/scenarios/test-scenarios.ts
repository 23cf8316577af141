// Test helpers of the scenario test files: run one scenario, fail on a skip or a failed check, read a step's facts.
import assert from 'node:assert/strict';
import { isSkipped, runScenario } from './index.js';
import type { ScenarioResult } from './types.js';

export async function runOk(name: string): Promise<ScenarioResult> {
  const r = await runScenario(name);
  assert.ok(!isSkipped(r), `the tools it needs are installed here: ${JSON.stringify(r)}`);
  for (const c of r.checks) assert.ok(c.ok, c.what);
  return r;
}

export function fact(r: ScenarioResult, step: string, key: string): unknown {
  const res = r.steps.find((s) => s.name === step)?.result;
  return res !== null && typeof res === 'object' && key in res ? Reflect.get(res, key) : undefined;
}

/**
 * The fault-injection suite, counted: a test that injects a fault (kill -9, disk full, a
 * damaged object, a black-holed endpoint...) runs through `faultTest`, which records the fault
 * as injected before and as survived after its assertions pass. scripts/run-tests.mjs gives every
 * test process the same PGKEEP_FAULT_LOG file and prints "FAULTS: N injected, M survived" at
 * the end of the run. Outside the runner (no PGKEEP_FAULT_LOG) nothing is recorded.
 */
import { appendFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

function record(event: 'injected' | 'survived', name: string): void {
  const log = process.env.PGKEEP_FAULT_LOG;
  if (log) appendFileSync(log, `${event}\t${name.replace(/\s+/g, ' ')}\n`);
}

/** `node:test`'s test(), for a test that injects one fault and asserts the system survived it. */
export function faultTest(name: string, fn: (t: TestContext) => Promise<void> | void, options: { timeout?: number } = {}): void {
  test(`fault: ${name}`, { timeout: options.timeout ?? 300_000 }, async (t) => {
    record('injected', name);
    await fn(t);
    record('survived', name);
  });
}

/** For a test that injects several faults in a loop: call around each one. */
export async function injectFault(name: string, fn: () => Promise<void> | void): Promise<void> {
  record('injected', name);
  await fn();
  record('survived', name);
}

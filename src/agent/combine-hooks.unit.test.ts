/** Several services behind the agent's one hook: one failing to start stops none of the others; reload and stop reach each. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PgkeepConfig } from '../config/index.js';
import type { AgentEvent } from './events.js';
import { combineHooks } from './combine-hooks.js';
import type { MonitorContext } from './monitor-hook.js';

test('a service that fails to start is logged; the others start, reload and stop', async () => {
  const calls: string[] = [];
  const events: AgentEvent[] = [];
  const service = (name: string) => async () => ({
    reload: () => void calls.push(`${name} reload`),
    stop: async () => {
      calls.push(`${name} stop`);
      if (name === 'b') throw new Error('b stuck');
    },
  });
  const start = combineHooks(
    service('a'),
    async () => {
      throw new Error('port 8432 in use');
    },
    service('b'),
  );
  const ctx = { config: {}, state: {}, stateFile: '/x', log: (e: AgentEvent) => events.push(e) } as unknown as MonitorContext;
  const handle = await start(ctx);
  await handle.reload({} as PgkeepConfig);
  await handle.stop();
  assert.deepEqual(calls, ['a reload', 'b reload', 'a stop', 'b stop']);
  assert.deepEqual(
    events.map((e) => e.message),
    ['a service of the agent did not start: port 8432 in use', 'a service of the agent did not stop cleanly: b stuck'],
  );
});

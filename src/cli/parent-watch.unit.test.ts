/**
 * The watch of PGKEEP_STOP_WITH_PARENT is for the agent's direct children only: a pgkeep started
 * further down (by a server a child started, as restore_command) neither inherits the variable
 * nor stops itself because its parent is not the agent.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { PARENT_ENV, stopWithParent } from './parent-watch.js';

test('a pgkeep whose parent is not the agent named in the variable keeps running, and the variable is not passed on', async () => {
  let terminated = false;
  const onTerm = () => (terminated = true);
  process.on('SIGTERM', onTerm);
  try {
    const env: NodeJS.ProcessEnv = { [PARENT_ENV]: String(process.ppid + 100_000) };
    stopWithParent(env);
    assert.equal(env[PARENT_ENV], undefined, 'programs it starts do not inherit the watch');
    await sleep(2_500);
    assert.equal(terminated, false, 'it did not interrupt itself');
  } finally {
    process.off('SIGTERM', onTerm);
  }
});

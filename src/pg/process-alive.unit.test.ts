/**
 * A process that has exited is not alive, also while it waits as a zombie for a parent that does
 * not reap it (an init that reaps late, a parent that never waits): waits on a process's end
 * must not last until the zombie is reaped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { processAlive } from './process-alive.js';

test('a running process is alive; an exited one, even unreaped (a zombie), is not', async () => {
  // `sleep 0` exits at once, but its parent execs into `sleep 3`, which never reaps it
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await once(parent.stdout!, 'data')) as [Buffer];
    const zombie = Number(line.toString().trim());
    assert.ok(zombie > 0);
    assert.equal(processAlive(parent.pid!), true);
    const deadline = Date.now() + 2_000;
    while (processAlive(zombie) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(processAlive(zombie), false, 'an exited process waiting to be reaped is not alive');
    assert.equal(processAlive(parent.pid!), true, 'its parent still is');
  } finally {
    parent.kill('SIGKILL');
  }
});

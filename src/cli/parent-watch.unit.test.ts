/**
 * PGKEEP_STOP_WITH_PARENT: a command whose agent is already gone when it starts interrupts itself
 * at once (the agent killed right after spawning it); one whose agent lives runs on; the
 * variable is never passed on to what the command starts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { PARENT_ENV } from './parent-watch.js';

const WATCH = fileURLToPath(new URL('./parent-watch.js', import.meta.url));

/** A node process that runs stopWithParent() and reports SIGTERM, its env variable, and a grandchild's view of it. */
function child(parentPid: number): Promise<string> {
  const script = `
    const { stopWithParent } = await import(${JSON.stringify(WATCH)});
    process.on('SIGTERM', () => { console.log('SIGTERM'); process.exit(0); });
    stopWithParent();
    const { execFileSync } = await import('node:child_process');
    console.log('grandchild sees', execFileSync(process.execPath, ['-p', 'process.env.${PARENT_ENV} ?? "nothing"']).toString().trim());
    setTimeout(() => { console.log('ran on'); process.exit(0); }, 2500);`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, [PARENT_ENV]: String(parentPid) } });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  return new Promise((res) => p.on('close', () => res(out)));
}

test('a command started for an agent that is already gone interrupts itself at once', async () => {
  const out = await child(999_999_99);
  assert.match(out, /^SIGTERM/m);
  assert.doesNotMatch(out, /ran on/);
});

test('a command whose agent lives runs on, and what it starts does not inherit the watch', async () => {
  const out = await child(process.pid);
  assert.match(out, /grandchild sees nothing/);
  assert.match(out, /ran on/);
  assert.doesNotMatch(out, /SIGTERM/);
});

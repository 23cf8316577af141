/** agent.lock: a live holder refuses, a dead one is taken over, another host's is never taken. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PgkeepError } from '../errors.js';
import { takeAgentLock } from './lock.js';

function isLocked(e: unknown, message: RegExp): boolean {
  return e instanceof PgkeepError && e.code === 'LOCKED' && message.test(e.message);
}

test('agent.lock: live holder refuses, dead holder is replaced, another host is never taken over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-agent-lock-'));
  const file = join(dir, 'agent.lock');
  const sleeper = spawn('sleep', ['30']);
  try {
    writeFileSync(file, JSON.stringify({ pid: sleeper.pid, host: hostname(), startedAt: 'x', repository: '/r' }));
    assert.throws(
      () => takeAgentLock(file, '/r'),
      (e) => isLocked(e, /another pgkeep agent \(pid \d+/),
    );

    writeFileSync(file, JSON.stringify({ pid: 999_999_99, host: hostname(), startedAt: 'x', repository: '/r' }));
    const lock = takeAgentLock(file, '/r');
    assert.equal(lock.replaced?.pid, 999_999_99);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, process.pid);
    lock.release();
    assert.ok(!existsSync(file));

    writeFileSync(file, JSON.stringify({ pid: 999_999_99, host: 'elsewhere.example', startedAt: 'x', repository: '/r' }));
    assert.throws(
      () => takeAgentLock(file, '/r'),
      (e) => isLocked(e, /belongs to host elsewhere\.example/),
    );
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).host, 'elsewhere.example', "the other host's lock stays");
  } finally {
    sleeper.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

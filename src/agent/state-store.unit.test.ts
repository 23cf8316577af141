/**
 * state.json: atomic writes that a reader sees whole; a write that fails (here: its directory
 * gone, as with a full or read-only disk) is reported once and retried at the next change,
 * without stopping the agent; the previous agent's runs survive a restart, its "running" does not.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readStateFile, StateStore } from './state-store.js';

test('a failing state write is reported once, the agent goes on, and the next change writes it again', () => {
  const work = mkdtempSync(join(tmpdir(), 'pgkeep-state-'));
  try {
    const dir = join(work, 'gone');
    const file = join(dir, 'state.json');
    const store = new StateStore(file, { configFile: null, repository: '/r' });
    const reports: (string | undefined)[] = [];
    store.onSaveError = (e) => reports.push(e ? (e as NodeJS.ErrnoException).code : undefined);
    store.cluster('main');
    store.save();
    store.updateStream('main', { status: 'running', pid: 42 });
    assert.deepEqual(reports, ['ENOENT'], 'one report for the failure streak');
    mkdirSync(dir);
    store.updateStream('main', { lagBytes: 100 });
    assert.deepEqual(reports, ['ENOENT', undefined], 'the recovery is reported');
    const read = readStateFile(file)!;
    assert.equal(read.clusters.main!.stream!.pid, 42, 'what changed while failing is in the file');
    assert.equal(read.clusters.main!.stream!.lagBytes, 100);
    assert.deepEqual(readdirSync(dir), ['state.json'], 'no temporary file left');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('a new agent keeps the last runs of the previous one and clears what it had running', () => {
  const work = mkdtempSync(join(tmpdir(), 'pgkeep-state-'));
  try {
    const file = join(work, 'state.json');
    const first = new StateStore(file, { configFile: null, repository: '/r' });
    first.setJob('main', 'verify', {
      schedule: '0 5 * * *',
      nextRunAt: '2030-01-01T05:00:00.000Z',
      running: { startedAt: '2029-12-31T05:00:00.000Z', pid: 7 },
      lastRun: { startedAt: 'a', endedAt: 'b', result: 'ok', exitCode: 0, message: 'done', trigger: 'schedule' },
      lastFailure: null,
      lastTickAt: null,
      lastSkipAt: null,
      missed: null,
      scheduledSince: '2029-01-01T00:00:00.000Z',
    });
    first.updateStream('main', { status: 'running', pid: 8 });
    const second = new StateStore(file, { configFile: null, repository: '/r' }, readStateFile(file));
    const job = second.job('main', 'verify')!;
    assert.equal(job.running, null);
    assert.equal(job.nextRunAt, null);
    assert.equal(job.lastRun?.result, 'ok');
    assert.equal(second.cluster('main').stream?.status, 'stopped');
    assert.equal(second.cluster('main').stream?.pid, null);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

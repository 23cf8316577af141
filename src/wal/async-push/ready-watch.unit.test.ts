/**
 * The pusher's wake-up on a new `.ready` (ready-watch.ts), on a real directory: a queued file
 * ends the wait (the waits here are 10 minutes long: only the change can end them within the
 * test), a change while nobody waits is kept for the next wait, and close() ends a wait.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchReady } from './ready-watch.js';

const LONG = 600_000;

test('ready watch: a new .ready ends the wait; a change while nobody waits is kept; close ends a wait', { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-ready-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'archive_status'));
  const w = watchReady(dir);
  t.after(() => w.close());

  const first = w.next(LONG);
  assert.equal(w.next(LONG), first, 'one wait at a time');
  writeFileSync(join(dir, 'archive_status', '000000010000000000000001.ready'), '');
  await first;
  await new Promise((r) => setTimeout(r, 100));
  await w.next(10); // the same write's other events (create, modify) are spent here

  writeFileSync(join(dir, 'archive_status', '000000010000000000000002.ready'), '');
  await new Promise((r) => setTimeout(r, 200)); // the event arrives while no one waits
  await w.next(LONG);

  let ended = false;
  const last = w.next(LONG).then(() => (ended = true));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ended, false, 'nothing changed: still waiting');
  w.close();
  await last;
});

test('ready watch: without archive_status (nothing to watch) the wait is the tick alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-ready-watch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const w = watchReady(dir);
  await w.next(20);
  w.close();
});

/**
 * kill -9 of `pgkeep backup` (stream and local) and `pgkeep restore` at several points, through
 * the real CLI. After each kill: `repo check --read-data` passes, the killed process's lock is
 * reported stale, the same command run again succeeds, and every snapshot `list` shows restores
 * to the data it held. A killed restore leaves its marker, cannot be started, and `--delta`
 * finishes it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { join } from 'node:path';
import { faultTest, injectFault } from '../test-support/faults.js';
import { type FaultEnv, useFaultEnv, listFiles } from './fault-env.js';
import { killAt, killOnChange, type CliResult } from './cli-process.js';

let env: FaultEnv;
let round = 0;

useFaultEnv('kill-backup', (e) => (env = e));

/** What every killed backup must leave: a checkable repository, a stale lock, a working rerun, restorable snapshots. */
async function afterKilledBackup(method: 'stream' | 'local', r: CliResult, pid: number, when: string): Promise<void> {
  assert.equal(r.signal, 'SIGKILL', `backup was killed ${when}: ${r.stdout}${r.stderr}`);
  await env.assertServerForgotBackup(when);
  await env.assertCheckPasses(when);
  const stale = (await env.locks()).filter((l) => l.pid === pid);
  assert.ok(
    stale.every((l) => l.stale),
    `the killed backup's lock is reported stale: ${JSON.stringify(stale)}`,
  );
  // A shared lock does not keep another backup out: the rerun works with the stale lock still there.
  await env.backup(method);
  await env.assertStaleLocksAndUnlock(pid, when);
  await env.assertEverySnapshotRestores(when);
}

for (const method of ['stream', 'local'] as const) {
  faultTest(`kill -9 of a ${method} backup as soon as it holds its lock`, async () => {
    await env.changeData(++round);
    const before = new Set(env.sharedLockFiles());
    const p = env.startBackup(method);
    const r = await killAt(p, () => env.sharedLockFiles().some((f) => !before.has(f)), 'the backup took its shared lock');
    await afterKilledBackup(method, r, p.proc.pid!, `a ${method} backup killed at its start`);
  });

  faultTest(`kill -9 of a ${method} backup while it writes packs`, async () => {
    await env.changeData(++round);
    const before = new Set(env.packs());
    const p = env.startBackup(method);
    const r = await killAt(p, () => env.packs().filter((f) => !before.has(f)).length >= 3, 'three new packs were published');
    await afterKilledBackup(method, r, p.proc.pid!, `a ${method} backup killed while writing packs`);
  });
}

faultTest('kill -9 of a cold backup while it writes packs', async () => {
  await env.changeData(++round);
  await env.cluster.stop('fast');
  try {
    const before = new Set(env.packs());
    const p = env.startBackup('cold');
    const r = await killAt(p, () => env.packs().filter((f) => !before.has(f)).length >= 3, 'three new packs were published');
    assert.equal(r.signal, 'SIGKILL', `cold backup was killed: ${r.stdout}${r.stderr}`);
    await env.assertCheckPasses('a cold backup killed');
    await env.backup('cold');
    await env.assertStaleLocksAndUnlock(p.proc.pid!, 'a cold backup killed');
  } finally {
    await env.cluster.start();
  }
  await env.assertEverySnapshotRestores('a cold backup killed while writing packs');
});

faultTest('kill -9 of a backup while it publishes its manifest (either no snapshot or a whole one)', async () => {
  await env.changeData(++round);
  const idsBefore = (await env.list()).map((s) => s.id);
  // The manifest is written to a temporary file in the snapshots directory, then linked into
  // place: kill the moment the temporary file appears.
  const { p, r } = await killOnChange(
    () => env.startBackup('stream'),
    join(env.repoDir, 'snapshots', 'main'),
    (name) => name.startsWith('.pgkeep-tmp-'),
  );
  const ids = (await env.list()).map((s) => s.id);
  const added = ids.filter((id) => !idsBefore.includes(id));
  // The kill lands between "temp file created" and "linked into place", or just after: both
  // must leave a consistent repository.
  assert.ok(r.signal === 'SIGKILL' || r.code === 0, `backup ended with ${r.code}: ${r.stderr}`);
  assert.ok(added.length <= 1);
  await afterKilledBackup(
    'stream',
    { ...r, signal: 'SIGKILL' },
    p.proc.pid!,
    `a backup killed while publishing (${added.length ? 'published' : 'not published'})`,
  );
});

test('kill -9 of a restore at its start and while writing files: marker stays, cannot start, --delta finishes', async () => {
  const [snap] = (await env.list()).slice(-1);
  const expected = env.expectedFor(snap!.startTime);
  for (const point of ['start', 'files'] as const)
    await injectFault(`kill -9 of a restore (${point})`, async () => {
      const dir = env.newTarget();
      const p = env.spawn('restore', snap!.id, '--to', dir, '--archive-mode', 'off', '--no-sync', '--jobs', '2');
      const r = await killAt(
        p,
        point === 'start' ? () => existsSync(join(dir, '.pgkeep-restore-in-progress')) : () => listFiles(join(dir, 'base')).length >= 200,
        point === 'start' ? 'the restore marker was written' : '200 relation files were written',
      );
      assert.equal(r.signal, 'SIGKILL');
      assert.ok(existsSync(join(dir, '.pgkeep-restore-in-progress')), `killed restore (${point}) leaves its marker`);
      assert.equal(existsSync(join(dir, 'global', 'pg_control')), false, 'a half-restored directory cannot be started (no pg_control)');
      const again = await env.cli(['restore', snap!.id, '--to', dir, '--archive-mode', 'off', '--no-sync']);
      assert.equal(again.code, 11, `a plain restore into the interrupted directory is refused (CONFLICT): ${again.stdout}${again.stderr}`);
      assert.match(again.stdout, /interrupted|in progress|--delta/);
      const delta = await env.cli(['restore', snap!.id, '--to', dir, '--archive-mode', 'off', '--no-sync', '--delta']);
      assert.equal(delta.code, 0, `restore --delta finishes the interrupted restore: ${delta.stdout}${delta.stderr}`);
      // Killed right after the marker was created, its content may not have been written: it still
      // counts as a marker, of an "unknown" snapshot (src/restore/marker.ts).
      const resumed = JSON.parse(delta.stdout).resumed;
      assert.ok(resumed === snap!.id || (point === 'start' && resumed === 'unknown'), `resumed ${resumed}`);
      assert.equal(existsSync(join(dir, '.pgkeep-restore-in-progress')), false);
      await env.assertDataDir(dir, expected, `a restore killed at ${point} and finished with --delta`);
    });
});

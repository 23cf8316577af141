/**
 * Everything at once, through the real CLI: a backup, `repo gc` and `expire` in a loop, and a
 * storm of `wal push` (30 pushes of 10 real segments by 6 processes at a time, every segment
 * pushed three times, some at the same moment). Every command either succeeds or fails cleanly
 * with LOCKED (10); afterwards no lock is left, `repo check --read-data` passes, every snapshot
 * listed restores to its data, and every pushed segment comes back from `wal get` byte for byte.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { faultTest } from '../test-support/faults.js';
import { type FaultEnv, useFaultEnv } from './fault-env.js';
import { waitUntil, type CliProcess, type CliResult } from './cli-process.js';
import { completedSegments, walDir } from './wal-segments.js';

let env: FaultEnv;
useFaultEnv('concurrency', (e) => (env = e), { wal_keep_size: '1GB' });

interface Outcome {
  what: string;
  r: CliResult;
}

/** Wait for a command with a bound (a hang fails the test), and record how it ended. */
async function finish(p: CliProcess, what: string, out: Outcome[]): Promise<void> {
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), 120_000);
  const r = await p.exit;
  clearTimeout(timer);
  assert.notEqual(r.signal, 'SIGKILL', `${what} did not finish within 120 s`);
  out.push({ what, r });
}

faultTest('concurrent backup, repo gc, expire and a storm of 30 wal pushes (6 at a time, each segment 3 times)', async () => {
  await env.changeData(1);
  await env.backup('local');
  await env.changeData(2);
  const segments = await completedSegments(env.cluster, 10);
  const outcomes: Outcome[] = [];

  // The backup first, so that gc meets a running backup (and is refused) rather than the reverse.
  const packs = new Set(env.packs());
  const b = env.startBackup('stream');
  const backup = finish(b, 'backup', outcomes);
  await waitUntil(() => b.exited() || env.packs().filter((k) => !packs.has(k)).length >= 2, 'the backup writes packs', 60_000, 5);
  const queue = [...segments, ...segments, ...[...segments].reverse()];
  const pushers = Array.from({ length: 6 }, async () => {
    for (let seg = queue.shift(); seg; seg = queue.shift()) {
      await finish(env.spawn('wal', 'push', join(walDir(env.cluster), seg)), `wal push ${seg}`, outcomes);
    }
  });
  let storming = true;
  const maintenance = (async () => {
    while (storming) {
      await finish(env.spawn('repo', 'gc'), 'repo gc', outcomes);
      await finish(env.spawn('expire', '--keep-last', '2'), 'expire', outcomes);
    }
  })();
  await Promise.all([...pushers, backup]);
  storming = false;
  await maintenance;

  for (const { what, r } of outcomes) {
    if (what.startsWith('wal push')) {
      assert.equal(r.code, 0, `${what} (takes no lock) succeeds: ${r.stdout}${r.stderr}`);
      continue;
    }
    assert.ok(r.code === 0 || r.code === 10, `${what} succeeds or fails with LOCKED: exit ${r.code}: ${r.stdout}${r.stderr}`);
    if (r.code === 10) assert.equal(JSON.parse(r.stdout).error.code, 'LOCKED');
  }
  assert.equal(outcomes.find((o) => o.what === 'backup')!.r.code, 0, 'the backup, which took its lock first, succeeds');
  const ran = (w: string) =>
    outcomes
      .filter((o) => o.what === w)
      .map((o) => o.r.code)
      .join(',');
  console.log(
    `# concurrency: backup ${ran('backup')}; gc ${ran('repo gc')}; expire ${ran('expire')}; ${outcomes.filter((o) => o.what.startsWith('wal push')).length} wal pushes`,
  );

  assert.deepEqual(await env.locks(), [], 'every command released its lock');
  await env.assertCheckPasses('the concurrent run');
  for (const seg of segments) {
    const dest = join(env.work, `got-${seg}`);
    const g = await env.cli(['wal', 'get', seg, dest]);
    assert.equal(g.code, 0, `wal get ${seg}: ${g.stdout}${g.stderr}`);
    assert.ok(readFileSync(dest).equals(readFileSync(join(walDir(env.cluster), seg))), `${seg} is archived with the right content`);
  }
  await env.assertEverySnapshotRestores('the concurrent run');
});

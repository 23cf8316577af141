/**
 * kill -9 of `repo gc`, `expire` and `wal push` at several points, through the real CLI. After
 * each kill: `repo check --read-data` passes, the killed process's lock is reported stale and
 * removed the documented way (`repo unlock`), the same command run again succeeds, and every
 * snapshot `list` shows restores to the data it held. A killed `wal push` leaves nothing that
 * `wal get` would hand to recovery, and the archiver's retry succeeds with the right bytes.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { basename, join } from 'node:path';
import { faultTest, injectFault } from '../test-support/faults.js';
import { type FaultEnv, useFaultEnv } from './fault-env.js';
import { killAt, killOnChange, type CliProcess, type CliResult } from './cli-process.js';
import { completedSegments, walDir } from './wal-segments.js';

let env: FaultEnv;
let round = 0;

useFaultEnv('kill-maintenance', (e) => (env = e), { wal_keep_size: '512MB' });

/** One more backup of changed data, then expire all but the newest: gc has packs to delete and to repack. */
async function makeGarbage(): Promise<void> {
  await env.changeData(++round);
  await env.backup(round % 2 ? 'local' : 'stream');
  const r = await env.cli(['expire', '--keep-last', '1']);
  assert.equal(r.code, 0, `expire: ${r.stdout}${r.stderr}`);
}

function start(...args: string[]): CliProcess {
  return env.spawn('--log-level', 'debug', ...args);
}

/** The killed command's own lock is stale; a rerun is refused or not, as documented; unlock; rerun works. */
async function afterKill(r: CliResult, p: CliProcess, when: string, rerun: string[], exclusive: boolean): Promise<void> {
  assert.equal(r.signal, 'SIGKILL', `${when}: ${r.stdout}${r.stderr}`);
  await env.assertCheckPasses(when);
  const mine = (await env.locks()).filter((l) => l.pid === p.proc.pid);
  if (exclusive) {
    assert.equal(mine.length, 1, `${when}: the killed gc left its exclusive lock`);
    const refused = await env.cli(rerun);
    assert.equal(refused.code, 10, `${when}: the stale exclusive lock is reported, not taken over: ${refused.stdout}${refused.stderr}`);
    assert.match(JSON.parse(refused.stdout).error.hint, new RegExp(`pgkeep repo unlock ${mine[0]!.id}`));
  }
  await env.assertStaleLocksAndUnlock(p.proc.pid!, when);
  const again = await env.cli(rerun);
  assert.equal(again.code, 0, `${when}: rerun of ${rerun.join(' ')}: ${again.stdout}${again.stderr}`);
  await env.assertEverySnapshotRestores(when);
}

const isTemp = (name: string) => basename(name).startsWith('.pgkeep-tmp-');

type Killed = { p: CliProcess; r: CliResult };

/** Run `start` and kill it once `point` holds (polled). */
async function killWhen(start: () => CliProcess, point: () => boolean, what: string): Promise<Killed> {
  const p = start();
  return { p, r: await killAt(p, point, what) };
}

/**
 * Where gc is killed: each point is seen as it happens (the lock file, or inotify on packs and
 * manifests). Every packs/<aa>/ directory exists (FaultEnv), so one watch each sees every pack.
 */
const GC_POINTS: { point: string; kill: (start: () => CliProcess) => Promise<Killed> }[] = [
  { point: 'holding the exclusive lock', kill: (start) => killWhen(start, () => env.hasExclusiveLock(), 'gc took the exclusive lock') },
  // gc writes packs only when it repacks: the first temporary file under packs/ is a repacked pack.
  { point: 'writing a repacked pack', kill: (start) => killOnChange(start, join(env.repoDir, 'packs'), isTemp) },
  // After the new packs, before any deletion: the manifests that used the old packs are rewritten.
  { point: 'rewriting manifests', kill: (start) => killOnChange(start, join(env.repoDir, 'snapshots'), isTemp) },
  {
    point: 'deleting packs',
    kill: (start) => killOnChange(start, join(env.repoDir, 'packs'), (n) => !isTemp(n) && !existsSync(join(env.repoDir, 'packs', n))),
  },
];

for (const { point, kill } of GC_POINTS) {
  faultTest(`kill -9 of repo gc while ${point}`, async () => {
    await makeGarbage();
    const before = new Set(env.packs());
    const { p, r } = await kill(() => start('repo', 'gc', '--repack-below', '90'));
    const now = new Set(env.packs());
    console.log(
      `# gc killed while ${point}: ${[...before].filter((k) => !now.has(k)).length} of ${before.size} packs deleted, ` +
        `${[...now].filter((k) => !before.has(k)).length} new packs`,
    );
    await afterKill(r, p, `gc killed while ${point}`, ['repo', 'gc', '--repack-below', '90'], true);
  });
}

for (const point of ['holding its lock', 'deleting a backup'] as const) {
  faultTest(`kill -9 of expire while ${point}`, async () => {
    await env.changeData(++round);
    await env.backup('stream');
    const locks = new Set(env.sharedLockFiles());
    const run = () => start('expire', '--keep-last', '1');
    const snapshots = join(env.repoDir, 'snapshots');
    const { p, r } =
      point === 'holding its lock'
        ? await killWhen(run, () => env.sharedLockFiles().some((f) => !locks.has(f)), 'expire took its lock')
        : await killOnChange(run, snapshots, (n) => !isTemp(n) && !existsSync(join(snapshots, n)));
    await afterKill(r, p, `expire killed while ${point}`, ['expire', '--keep-last', '1'], false);
    assert.equal((await env.list()).length, 1, 'the rerun expired what the killed one did not');
  });
}

test('kill -9 of wal push while the segment is written and just after it is linked: retry succeeds, wal get gives the right bytes', async () => {
  await env.cluster.exec(`UPDATE churn SET payload = md5(payload) WHERE id % 2 = 0`);
  const segs = await completedSegments(env.cluster, 3);
  const push = (seg: string) => env.spawn('wal', 'push', join(walDir(env.cluster), seg));
  const first = await push(segs[0]!).exit;
  assert.equal(first.code, 0, `wal push: ${first.stdout}${first.stderr}`);
  const dir = join(env.repoDir, 'wal', 'main', await systemId(), segs[0]!.slice(0, 16));
  for (const [i, point] of [
    [1, 'written'],
    [2, 'linked'],
  ] as const)
    await injectFault(`kill -9 of wal push (${point})`, async () => {
      const seg = segs[i]!;
      // Kill the moment the object's temporary file (written) or its final name (linked) appears.
      const { r } = await killOnChange(
        () => push(seg),
        dir,
        (name) => name.startsWith(point === 'written' ? '.pgkeep-tmp-' : seg),
      );
      assert.equal(r.signal, 'SIGKILL', `wal push of ${seg} was killed (${point}): ${r.stdout}${r.stderr}`);
      const source = readFileSync(join(walDir(env.cluster), seg));
      const got = await walGet(seg);
      // Never a half object: either nothing (exit 1, recovery moves on / the archiver retries) or the whole segment.
      if (got.code === 1) assert.equal(point, 'written', 'an object whose name was linked is found');
      else
        assert.ok(
          got.code === 0 && got.bytes.equals(source),
          `wal get ${seg} after a push killed (${point}) gives the whole segment or nothing (exit ${got.code})`,
        );
      const retry = await push(seg).exit;
      assert.equal(retry.code, 0, `the archiver's retry of ${seg} succeeds: ${retry.stdout}${retry.stderr}`);
      const after = await walGet(seg);
      assert.ok(after.code === 0 && after.bytes.equals(source), `wal get ${seg} gives the pushed bytes`);
    });
  await env.assertCheckPasses('wal push killed');
});

async function systemId(): Promise<string> {
  return (await env.cluster.query<{ s: string }>('SELECT system_identifier::text AS s FROM pg_control_system()'))[0]!.s;
}

async function walGet(seg: string): Promise<{ code: number | null; bytes: Buffer }> {
  const dest = join(env.work, `got-${seg}-${Date.now()}`);
  const r = await env.cli(['wal', 'get', seg, dest]);
  return { code: r.code, bytes: r.code === 0 ? readFileSync(dest) : Buffer.alloc(0) };
}

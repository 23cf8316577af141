/**
 * The server side goes away mid-backup: the walsender is terminated (pg_terminate_backend, the
 * base-backup one or the WAL-streaming one), or the server restarts (pg_ctl restart -m fast)
 * while a stream and a local backup run. Each backup must fail with a clear error (exit 4 or 5:
 * never 0, never 70), within a bound, publish no snapshot, release its lock; the next backup
 * succeeds and every snapshot restores.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { faultTest } from '../test-support/faults.js';
import { type FaultEnv, useFaultEnv } from './fault-env.js';
import { freeze, thaw, waitUntil, type CliProcess, type CliResult } from './cli-process.js';

let env: FaultEnv;
let round = 0;

useFaultEnv('connection', (e) => (env = e));

/** The exit of a backup whose server went away: bounded (60 s), then judged. */
async function failedCleanly(p: CliProcess, what: string): Promise<CliResult> {
  const timer = setTimeout(() => p.proc.kill('SIGKILL'), 60_000);
  const r = await p.exit;
  clearTimeout(timer);
  assert.notEqual(r.signal, 'SIGKILL', `${what}: the backup did not end within 60 s after losing its server`);
  assert.ok(r.code === 4 || r.code === 5, `${what}: exit ${r.code} (4 or 5 wanted): ${r.stdout}${r.stderr}`);
  const err = JSON.parse(r.stdout).error;
  assert.ok(['CONNECTION', 'SERVER_NOT_READY'].includes(err.code), `${what}: ${err.code}: ${err.message}`);
  console.log(`# ${what}: exit ${r.code} ${err.code}: ${err.message}`);
  return r;
}

async function assertNothingPublished(idsBefore: string[], pids: number[], what: string): Promise<void> {
  await env.assertServerForgotBackup(what);
  const ids = (await env.list()).map((s) => s.id);
  assert.deepEqual(ids, idsBefore, `${what}: no snapshot was published`);
  const left = (await env.locks()).filter((l) => pids.includes(l.pid));
  assert.deepEqual(left, [], `${what}: the failed backup released its lock`);
  await env.assertCheckPasses(what);
}

/** Wait until the backup is copying: at least `n` packs published since `before`. */
function copying(before: Set<string>, n: number, p: CliProcess[]): Promise<void> {
  return waitUntil(
    () => {
      for (const c of p) if (c.exited()) throw new Error(`a backup ended before the fault: ${c.stdout()}${c.stderr()}`);
      return env.packs().filter((k) => !before.has(k)).length >= n;
    },
    `${n} new packs`,
    60_000,
    5,
  );
}

for (const which of ['backup', 'streaming'] as const) {
  faultTest(`the ${which === 'backup' ? 'base-backup' : 'WAL-streaming'} walsender is terminated mid-backup`, async () => {
    await env.changeData(++round);
    const idsBefore = (await env.list()).map((s) => s.id);
    const before = new Set(env.packs());
    const p = env.startBackup('stream');
    await copying(before, 2, [p]);
    // pgkeep stands still while its walsender is terminated: the backup cannot finish first.
    freeze(p, 'the walsender was terminated');
    try {
      const killed = await env.cluster.query<{ pid: number }>(
        `SELECT pid, pg_terminate_backend(pid) FROM pg_stat_replication WHERE state = $1`,
        [which],
      );
      assert.equal(killed.length, 1, `one walsender in state ${which}`);
    } finally {
      thaw(p);
    }
    await failedCleanly(p, `walsender (${which}) terminated`);
    await assertNothingPublished(idsBefore, [p.proc.pid!], `walsender (${which}) terminated`);
    await env.backup('stream');
    await env.assertEverySnapshotRestores(`walsender (${which}) terminated`);
  });
}

faultTest('the server restarts (pg_ctl restart -m fast) while a stream and a local backup run', async () => {
  await env.changeData(++round);
  const idsBefore = (await env.list()).map((s) => s.id);
  const before = new Set(env.packs());
  const procs = [env.startBackup('stream'), env.startBackup('local')];
  await waitUntil(() => env.sharedLockFiles().length >= 2, 'both backups hold their lock', 30_000, 5);
  await copying(before, 3, procs);
  // Both stand still until the server has begun its shutdown (so neither can finish first), then
  // go on: a frozen replication client would hold the shutdown up until wal_sender_timeout.
  const logStart = statSync(env.cluster.logFile).size;
  for (const p of procs) freeze(p, 'the server restarted');
  let restarted: Promise<void>;
  try {
    restarted = env.cluster.restart();
    await waitUntil(
      () => readFileSync(env.cluster.logFile, 'utf8').slice(logStart).includes('received fast shutdown request'),
      'the server began its fast shutdown',
      30_000,
    );
  } finally {
    for (const p of procs) thaw(p);
  }
  await restarted;
  for (const p of procs) {
    const r = await failedCleanly(p, 'server restarted');
    // Whichever step met the restart, the user is told the connection was lost (not "server not ready").
    const err = JSON.parse(r.stdout).error;
    assert.equal(err.code, 'CONNECTION', `server restarted: ${err.message}`);
    assert.match(err.message, /connection to the server was lost|to the server ended|terminating connection due to administrator command/);
  }
  await assertNothingPublished(
    idsBefore,
    procs.map((p) => p.proc.pid!),
    'server restarted',
  );
  await env.backup('stream');
  await env.backup('local');
  await env.assertEverySnapshotRestores('server restarted mid-backup');
});

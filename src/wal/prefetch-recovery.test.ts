/**
 * Recovery with the prefetching restore_command `pgkeep restore` writes by default: one source
 * cluster archiving through the real CLI, one backup, then 16 archived segments each holding a
 * batch of rows.
 *
 * 1. PITR to a point in the 15th segment: the right rows, the spool used during recovery and gone
 *    afterwards (recovery_end_command), no prefetcher left running;
 * 2. the prefetcher killed -9 mid-recovery: recovery completes with every row, a new prefetcher
 *    takes the spool over;
 * 3. a spooled segment damaged before it is served (in the spool the prefetcher `restore`
 *    started fills before the server starts): it is refused (the server log says so), read
 *    from the repository instead, and recovery completes with every row;
 * 4. the prefetcher `restore` starts (startPrefetch) has the first segments and the history
 *    probes' answers ready when the server starts: every restore_command call of the recovery
 *    and recovery_end_command (spool-clean) are answered by the sh front (a stub node records
 *    each call: none), the end of recovery's re-read of the last segment included.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import { shellQuote } from '../shell-quote.js';
import type { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { faultTest } from '../test-support/faults.js';
import { parseLsn } from '../pg/lsn.js';
import { archivingSource, batch, recoveryRestoreOptions, sum, switchAndWait } from '../test-support/archiving-source.js';
import { restore, startRestored, waitForRecoveryEnd, type PitrRequest, type RestoreOptions } from '../restore/index.js';

let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
const started: LocalCluster[] = [];
let midLsn: string;
let midSum: string;
let endSum: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-prefetch-recovery-test-'));
  ({ repoDir, repo, src } = await archivingSource(work, 100));
  await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 2 });
  chownTreeToServerUser(repoDir); // the archiver and restore_command run as the server's OS user
  for (let i = 1; i <= 16; i++) {
    await batch(src, 1000 * i, 50, `seg${i}`);
    if (i === 15) {
      midSum = await sum(src);
      midLsn = (await src.query<{ l: string }>('select pg_current_wal_insert_lsn()::text as l'))[0]!.l;
      await batch(src, 1000 * i + 500, 50, 'after-target');
    }
    await switchAndWait(src);
  }
  endSum = await sum(src);
});

after(async () => {
  for (const c of started) await c.destroy().catch(() => {});
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

function opts(name: string, pitr?: PitrRequest): RestoreOptions {
  return recoveryRestoreOptions({ repo, repoDir, work, started }, name, pitr, { sync: false });
}

/** The spool directory of a restored data directory (one per repository, cluster and system). */
function spoolOf(dataDir: string): string | undefined {
  const root = join(dataDir, 'pg_wal', 'pgkeep-spool');
  const dirs = existsSync(root) ? readdirSync(root) : [];
  return dirs.length ? join(root, dirs[0]!) : undefined;
}

/** Call `each(spool dir)` every 10 ms while `p` runs; then p's result. */
async function watching<T>(p: Promise<T>, dataDir: string, each: (spool: string) => void): Promise<T> {
  let done = false;
  const loop = (async () => {
    while (!done) {
      const s = spoolOf(dataDir);
      if (s) {
        try {
          each(s);
        } catch {
          // the spool changes under us: look again
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    return await p;
  } finally {
    done = true;
    await loop;
  }
}

/** Prefetchers of that data directory (their command line names its spool). */
function processesUsing(dir: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(join(dir, 'pg_wal', 'pgkeep-spool')) && cmd.includes('prefetch')) out.push(Number(pid));
    } catch {
      // gone
    }
  }
  return out;
}

async function assertSpoolGone(dataDir: string): Promise<void> {
  for (let i = 0; i < 100 && (existsSync(join(dataDir, 'pg_wal', 'pgkeep-spool')) || processesUsing(dataDir).length); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(existsSync(join(dataDir, 'pg_wal', 'pgkeep-spool')), false, 'the spool is removed when recovery ends');
  assert.deepEqual(processesUsing(dataDir), [], 'no prefetcher left running');
}

const isEntry = (e: string) => /^[0-9A-F]{24}\.[0-9a-f]{8}$/.test(e);

test('PITR through 15 archived segments with prefetch on (the default): the right rows, the spool used, then gone', async () => {
  const dir = join(work, 'pitr');
  let spooled = 0;
  const r = await watching(
    restore(opts('pitr', { target: { kind: 'lsn', lsn: parseLsn(midLsn) }, action: 'promote', timeline: 'latest' })),
    dir,
    (s) => {
      spooled = Math.max(spooled, readdirSync(s).filter(isEntry).length);
    },
  );
  assert.equal(r.recoveryEnd?.state, 'promoted');
  assert.equal(await sum(started[started.length - 1]!), midSum, 'every row committed before the target, none after');
  assert.match(
    readFileSync(join(dir, 'postgresql.auto.conf'), 'utf8'),
    /restore_command = 'PGKEEP_NODE=.* '?[^ ]*\/bin\/pgkeep'? .* wal get --prefetch 8 --system-id \d+ %f %p'/,
  );
  assert.ok(spooled >= 2, `segments were prefetched into the spool (at most ${spooled} seen at once)`);
  await assertSpoolGone(dir);
});

faultTest('the prefetcher killed -9 mid-recovery: recovery completes with every row, a new prefetcher takes over', async () => {
  const dir = join(work, 'killed');
  const pids = new Set<number>();
  let killed: number | undefined;
  const r = await watching(restore(opts('killed')), dir, (s) => {
    const pid = Number(readFileSync(join(s, '.prefetch.pid'), 'utf8'));
    if (!(pid > 0)) return;
    pids.add(pid);
    if (killed === undefined) {
      killed = pid;
      process.kill(pid, 'SIGKILL');
    }
  });
  assert.ok(killed, 'a prefetcher ran and was killed');
  assert.equal(r.recoveryEnd?.state, 'promoted');
  assert.equal(await sum(started[started.length - 1]!), endSum, 'every archived row');
  assert.ok(pids.size >= 2, `a new prefetcher took over after ${killed} was killed (seen: ${[...pids].join(', ')})`);
  await assertSpoolGone(dir);
});

faultTest('a spooled segment damaged before it is served: refused, read from the repository, every row recovered', async () => {
  const dir = join(work, 'damaged');
  let damaged = '';
  const c = await restoreThenStart('damaged', (spool) => {
    // The second segment recovery asks for (the first is served before anything could reach it).
    const victim = readdirSync(spool).filter(isEntry).sort()[1]!;
    const fd = openSync(join(spool, victim), 'r+');
    try {
      writeSync(fd, Buffer.from([0x5a]), 0, 1, 8 * 1024 * 1024 + 123);
    } finally {
      closeSync(fd);
    }
    damaged = victim.slice(0, 24);
  });
  assert.equal(await sum(c), endSum, 'every archived row');
  assert.match(
    readFileSync(c.logFile, 'utf8'),
    new RegExp(`spooled ${damaged} does not match its checksum \\(damaged in the spool\\): deleted it`),
  );
  await assertSpoolGone(dir);
});

/**
 * Restore `name` (the prefetcher started by restore), wait until it is ready (the first two
 * segments spooled, the next timeline's history file answered), run `beforeStart(spool)`, start
 * the server and wait for the end of recovery (promoted).
 */
async function restoreThenStart(name: string, beforeStart: (spool: string) => void): Promise<LocalCluster> {
  const dir = join(work, name);
  const r = await restore({ ...opts(name), start: false, startPrefetch: true });
  assert.equal(r.recovery.mode, 'archive-recovery');
  // Started while the files were written, it has answered the history probes by the time restore
  // returns: a server started at once has its first calls answered by the sh front.
  const ready = spoolOf(dir);
  assert.ok(
    ready && existsSync(join(ready, '.checked')) && existsSync(join(ready, '.absent-00000002.history')),
    'ready when restore returns',
  );
  const spool = await until('the prefetcher restore started', 30_000, () => {
    const s = spoolOf(dir);
    return s &&
      existsSync(join(s, '.checked')) &&
      existsSync(join(s, '.absent-00000002.history')) &&
      readdirSync(s).filter(isEntry).length >= 2
      ? s
      : undefined;
  });
  beforeStart(spool);
  const s = await startRestored(dir);
  started.push(s.cluster);
  const end = await waitForRecoveryEnd(s.cluster, undefined, { logFrom: 0 });
  assert.equal(end.state, 'promoted');
  return s.cluster;
}

test('restore starts the prefetcher: the whole recovery, recovery_end_command included, is answered by the sh front without node', async () => {
  const dir = join(work, 'early');
  const calls = join(work, 'node-calls');
  const stub = join(work, 'node-stub');
  writeFileSync(stub, `#!/bin/sh\necho "$*" >> '${calls}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  writeFileSync(calls, '');
  chownTreeToServerUser(calls);
  const c = await restoreThenStart('early', () => {
    // restore_command and recovery_end_command through the stub (it records, then runs node), the front at debug level.
    const auto = join(dir, 'postgresql.auto.conf');
    const text = readFileSync(auto, 'utf8')
      .replaceAll(`PGKEEP_NODE=${shellQuote(process.execPath)} `, `PGKEEP_NODE=${shellQuote(stub)} `)
      .replace(' wal get ', ' --log-level debug wal get ')
      .replace(' wal spool-clean', ' --log-level debug wal spool-clean');
    assert.match(text, /restore_command = 'PGKEEP_NODE=.*node-stub.* --log-level debug wal get --prefetch 8 /);
    writeFileSync(auto, text);
  });
  assert.equal(await sum(c), endSum, 'every archived row');
  const log = readFileSync(c.logFile, 'utf8');
  const restored = [...log.matchAll(/restored log file "(\w{24})" from archive/g)].map((m) => m[1]!);
  const served = [...log.matchAll(/restored (\w{24}) from the spool \(sh front\)/g)].map((m) => m[1]!);
  assert.ok(restored.length >= 16, `${restored.length} segments restored`);
  assert.deepEqual(served, restored, `every segment from the spool, by the sh front; the server log:\n${log}`);
  const last = restored[restored.length - 1]!;
  assert.equal(restored.filter((n) => n === last).length, 2, `the last segment ${last} read again at the end of recovery`);
  assert.doesNotMatch(log, /could not (open|fsync) file .*pgkeep-spool/, 'no spool file vanished under the start-up fsync');
  assert.match(log, /00000002\.history is not in the archive \(sh front/);
  assert.match(log, /00000001\.history is not in the archive \(sh front/);
  assert.match(log, /\w{24} is not in the archive \(sh front/, 'the segment past the end of the archive');
  assert.match(log, /removed .*pgkeep-spool \(sh front\); stopped prefetcher\(s\) \d+/, 'recovery_end_command by the sh front');
  assert.equal(readFileSync(calls, 'utf8'), '', `node never ran; the server log:\n${log}`);
  await assertSpoolGone(dir);
});

async function until<T>(what: string, ms: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

faultTest('a restore interrupted after it started the prefetcher leaves no prefetcher and no spool behind', async () => {
  const dir = join(work, 'interrupted');
  const ac = new AbortController();
  const r = restore({
    ...opts('interrupted'),
    start: false,
    startPrefetch: true,
    signal: ac.signal,
    onProgress: (p) => {
      if (p.bytesDone > 0 && spoolOf(dir)) ac.abort(); // files being written, the prefetcher started
    },
  });
  await assert.rejects(r, /interrupt|abort/i);
  assert.equal(ac.signal.aborted, true, 'interrupted while writing files, after the prefetcher started');
  assert.deepEqual(processesUsing(dir), [], 'no prefetcher left running');
  assert.equal(existsSync(join(dir, 'pg_wal', 'pgkeep-spool')), false, 'its spool removed');
});

test('a restore never started, removed while its prefetcher waits for the server: rm -rf succeeds and the prefetcher exits', async () => {
  const dir = join(work, 'removed');
  await restore({ ...opts('removed'), start: false, startPrefetch: true });
  await until('the prefetcher restore started', 30_000, () => {
    const s = spoolOf(dir);
    return s && existsSync(join(s, '.absent-00000002.history')) ? s : undefined;
  });
  // Its first fetches over (on a loaded machine they may outlast the history checks): what is
  // asserted is the prefetcher *waiting* for the server, which creates no file.
  await until('the first two segments in the spool', 30_000, () => {
    const s = spoolOf(dir);
    const names = s && existsSync(s) ? readdirSync(s) : [];
    const entries = names.filter((n) => /^[0-9A-F]{24}\.[0-9a-f]{8}$/.test(n));
    return entries.length >= 2 && !names.some((n) => n.startsWith('.tmp-')) ? true : undefined;
  });
  await new Promise((r) => setTimeout(r, 1_500)); // a few of its rechecks
  assert.equal(processesUsing(dir).length, 1, 'its prefetcher runs');
  // rm -rf deletes in directory order: the spooled segments may go first. The prefetcher, woken
  // by that, must not fetch them again (a file made under the removal fails it with ENOTEMPTY).
  const spool = spoolOf(dir)!;
  const first = readdirSync(spool).filter((n) => /^[0-9A-F]{24}\.[0-9a-f]{8}$/.test(n));
  for (const n of first) rmSync(join(spool, n));
  for (let t = Date.now(); processesUsing(dir).length > 0 && Date.now() - t < 10_000; ) await new Promise((r) => setTimeout(r, 100));
  const remade = readdirSync(spool).filter((n) => /^[0-9A-F]{24}\.|^\.fetching-|^\.tmp-/.test(n));
  assert.deepEqual(remade, [], 'nothing fetched again under the removal, nothing announced');
  try {
    rmSync(dir, { recursive: true }); // no retries: a file created under rm fails it (ENOTEMPTY)
  } catch (e) {
    const s = spoolOf(dir);
    throw new Error(`${(e as Error).message}; left in the spool: ${s && existsSync(s) ? readdirSync(s).join(', ') : '(none)'}`);
  }
  await until('the prefetcher to exit', 10_000, () => (processesUsing(dir).length === 0 ? true : undefined));
  assert.equal(existsSync(dir), false);
});

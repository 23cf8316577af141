/**
 * Asynchronous `wal push` end to end: a real server whose archive_command is `pgkeep wal push %p`
 * with [archive] async = true, against a posix repository. The background pusher stores the
 * segments; every acknowledgement must name a file the repository holds.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalCluster } from '../../pg/local-cluster.js';
import { chownTreeToServerUser } from '../../pg/server-user.js';
import { PosixDriver } from '../../repo/storage/posix/index.js';
import { Repository } from '../../repo/index.js';
import { walObjectName } from '../../holdings/index.js';
import { PGKEEP_BIN, runPgkeep } from '../../test-support/cli.js';
import { faultTest } from '../../test-support/faults.js';
import { listAcks, pushSpoolDir } from './acks.js';
import { lockHolder } from './lock.js';
import { readPushStatus } from './status.js';

let cluster: LocalCluster;
let work: string;
let repoDir: string;
let repo: Repository;
let sysid: string;
let spool: string;
let configFile: string;
let archiveCommand: string;

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; server log:\n${cluster.logTail(15)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Write a little and switch: the name of the segment switched away from. */
async function switchSegment(): Promise<string> {
  await cluster.exec('insert into t select g, md5(g::text) from generate_series(1, 500) g');
  const [row] = await cluster.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f');
  return row!.f;
}

async function archiverState(): Promise<{ last: string | null; failed: number }> {
  const [a] = await cluster.query<{ w: string | null; n: string }>(
    'select last_archived_wal as w, failed_count::text as n from pg_stat_archiver',
  );
  return { last: a!.w, failed: Number(a!.n) };
}

async function waitArchived(seg: string, ms = 90_000): Promise<void> {
  await until(`${seg} to be archived`, ms, async () => {
    const { last } = await archiverState();
    return last !== null && last >= seg ? true : undefined;
  });
}

async function inRepo(seg: string): Promise<boolean> {
  return repo.getObject(walObjectName('test', sysid, seg)).then(
    () => true,
    () => false,
  );
}

/** Every acknowledgement names a segment the repository holds. */
async function assertAcksStored(): Promise<number> {
  const acks = await listAcks(spool);
  for (const a of acks) assert.ok(await inRepo(a), `${a} is acknowledged in the spool but not in the repository`);
  return acks.length;
}

async function walCheckClean(): Promise<void> {
  const r = await runPgkeep(['--config', configFile, '--cluster', 'test', 'wal', 'check', '--read-data']);
  assert.equal(r.code, 0, `wal check --read-data: ${r.stdout}${r.stderr}`);
  assert.match(r.stdout, / 0 damaged/);
  assert.match(r.stdout, /none/, 'no gap');
}

async function setArchiveCommand(command: string): Promise<void> {
  await cluster.exec(`alter system set archive_command = '${command.replace(/'/g, "''")}'`);
  await cluster.exec('select pg_reload_conf()');
  await new Promise((r) => setTimeout(r, 300)); // the archiver reads the new setting
}

function setRepoWritable(writable: boolean): void {
  const walk = (p: string) => {
    if (!statSync(p).isDirectory()) return;
    chmodSync(p, writable ? 0o755 : 0o555);
    for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(repoDir);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-asyncpush-test-'));
  repoDir = join(work, 'repo');
  mkdirSync(repoDir);
  repo = await Repository.init(new PosixDriver(repoDir), { kdfCost: { N: 1024, r: 8, p: 1 }, jobs: 1 });
  configFile = join(work, 'pgkeep.toml');
  writeFileSync(configFile, `[repo]\npath = "${repoDir}"\n\n[archive]\nasync = true\npush_jobs = 2\nqueue_alert_segments = 3\n`);
  chownTreeToServerUser(work);
  archiveCommand = `env -u PGKEEP_CONFIG ${process.execPath} ${PGKEEP_BIN} --config ${configFile} --cluster test wal push %p`;
  cluster = await LocalCluster.create({
    settings: { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand, fsync: false, archive_timeout: 0 },
  });
  await cluster.start();
  await cluster.exec('create table t (id int, v text)');
  sysid = (await cluster.controlData())['Database system identifier']!;
  spool = pushSpoolDir(join(cluster.dataDir, 'pg_wal', 'pgkeep-spool'), 'test', repoDir);
});

after(async () => {
  if (repoDir && existsSync(repoDir)) setRepoWritable(true);
  await cluster?.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

test('async push: ten switched segments are stored by the background pusher and the archive checks clean', async () => {
  const segs: string[] = [];
  for (let i = 0; i < 10; i++) segs.push(await switchSegment());
  await waitArchived(segs[segs.length - 1]!);
  for (const s of segs) assert.ok(await inRepo(s), `${s} is in the repository`);
  const status = readPushStatus(spool);
  assert.ok(status, 'the pusher wrote status.json');
  assert.ok(status.lastSuccess, 'status.json names the last success');
  assert.ok(status.pushed > 0, 'the pusher stored them (not pushes falling back to a synchronous push)');
  assert.equal(status.lastError, null);
  assert.ok(existsSync(join(spool, 'repository-id')), 'the spool is bound to the repository');
  await assertAcksStored();
  await walCheckClean();
});

test('async push: a failing repository fails the pushes, status.json says so, nothing is acknowledged; fixed, it drains', async () => {
  const before = (await archiverState()).failed;
  setRepoWritable(false);
  const stuck = [await switchSegment(), await switchSegment()];
  await until('archive_command failures', 30_000, async () => ((await archiverState()).failed > before ? true : undefined));
  const status = await until('status.json to report the failure', 15_000, () => {
    const s = readPushStatus(spool);
    return s?.lastError && s.failing.some((f) => f.file === stuck[0]) ? s : undefined;
  });
  assert.match(status.lastError!.message, /EACCES|permission|cannot/i);
  const acks = await listAcks(spool);
  for (const s of stuck) {
    assert.ok(!acks.includes(s), `${s} is not acknowledged`);
    assert.ok(!(await inRepo(s)), `${s} is not in the repository`);
  }
  assert.notEqual((await archiverState()).last, stuck[0]);
  setRepoWritable(true);
  const last = await switchSegment(); // wakes the archiver up
  await waitArchived(last);
  for (const s of [...stuck, last]) assert.ok(await inRepo(s), `${s} arrived once the repository was fixed`);
  await assertAcksStored();
  await walCheckClean();
});

faultTest(
  'async push: the pusher killed with -9 mid-push leaves no acknowledgement without its segment, and archiving completes',
  async () => {
    // A backlog for the pusher: segments queued while archiving is paused (archive_command fails)
    // and no pusher runs (the last one stops when idle).
    await until('the previous pusher to stop when idle', 30_000, () => (lockHolder(spool) === undefined ? true : undefined));
    await setArchiveCommand('/bin/false');
    const segs: string[] = [];
    for (let i = 0; i < 8; i++) segs.push(await switchSegment());
    await setArchiveCommand(archiveCommand);
    segs.push(await switchSegment()); // a new segment wakes the archiver, sleeping after its failures
    const found = await until('a running pusher with a queue', 60_000, () => {
      const s = readPushStatus(spool);
      const holder = lockHolder(spool);
      // Storing (one done, two in flight of push_jobs = 2) with more to go.
      return holder && s?.pid === holder && s.state === 'running' && s.pushed >= 1 && s.queue.segments >= 4 ? { holder, s } : undefined;
    });
    // queue_alert_segments = 3: the backlog raised the alert, and nothing was dropped for it (below).
    assert.equal(found.s.alert?.limit, 3, `the queue alert is raised: ${JSON.stringify(found.s)}`);
    const pid = found.holder;
    process.kill(pid, 'SIGKILL');
    await assertAcksStored();
    assert.ok((await listAcks(spool)).length < segs.length, 'killed before it stored the whole queue');
    await waitArchived(segs[segs.length - 1]!);
    for (const s of segs) assert.ok(await inRepo(s), `${s} is in the repository`);
    assert.notEqual(lockHolder(spool), pid, 'the stale lock of the killed pusher was taken over or released');
    await until('the alert to clear once drained', 15_000, () => (readPushStatus(spool)?.alert === null ? true : undefined));
    await assertAcksStored();
    await walCheckClean();
  },
);

/**
 * A pusher (runPusher, the real push) that stops for good right after each repository write
 * returned, before the acknowledgement: it names each stored file in `marker`.
 */
function pusherStoppingBeforeAcks(marker: string): ChildProcess {
  const dist = (p: string) => JSON.stringify(fileURLToPath(new URL(p, import.meta.url)));
  const code = `
    import { appendFileSync } from 'node:fs';
    import { runPusher } from ${dist('./pusher.js')};
    import { pushWalFile } from ${dist('../push.js')};
    import { Repository } from ${dist('../../repo/index.js')};
    import { PosixDriver } from ${dist('../../repo/storage/posix/index.js')};
    const repo = await Repository.open(new PosixDriver(${JSON.stringify(repoDir)}), { jobs: 1 });
    await runPusher(repo, {
      cluster: 'test', pgWalDir: ${JSON.stringify(join(cluster.dataDir, 'pg_wal'))}, pgdata: ${JSON.stringify(cluster.dataDir)},
      spoolDir: ${JSON.stringify(spool)}, jobs: 2, queueAlertSegments: 100, idleMs: 60000, failingMs: 60000,
      push: async (path) => {
        const r = await pushWalFile(repo, { cluster: 'test', path });
        appendFileSync(${JSON.stringify(marker)}, r.file + '\\n');
        return new Promise(() => {}); // never returns: the acknowledgement is never written
      },
    });`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
}

faultTest(
  'async push: a pusher killed with -9 between storing segments and acknowledging them leaves them unacknowledged; archiving completes',
  async () => {
    await until('the previous pusher to stop when idle', 30_000, () => (lockHolder(spool) === undefined ? true : undefined));
    await setArchiveCommand('/bin/false');
    const segs = [await switchSegment(), await switchSegment(), await switchSegment()];
    const marker = join(work, 'stored-not-acked');
    const child = pusherStoppingBeforeAcks(marker);
    const exited = new Promise((r) => child.once('exit', r));
    const stored = await until('segments stored by the stopping pusher', 60_000, () => {
      const names = existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : [];
      return names.length >= 2 ? names : undefined;
    });
    child.kill('SIGKILL');
    await exited;
    const acks = await listAcks(spool);
    for (const s of stored) {
      assert.ok(await inRepo(s), `${s} is in the repository`);
      assert.ok(!acks.includes(s), `${s} was stored but its pusher died before acknowledging it: no acknowledgement`);
    }
    await assertAcksStored();
    chownTreeToServerUser(work); // the stopping pusher ran as root here
    await setArchiveCommand(archiveCommand);
    const last = await switchSegment(); // wakes the archiver
    await waitArchived(last);
    for (const s of [...segs, last]) assert.ok(await inRepo(s), `${s} is in the repository`);
    await assertAcksStored();
    await walCheckClean();
  },
);

/**
 * The sh front (bin/pgkeep) with real WAL: one source cluster archiving into a repository.
 *
 * wal get (restore_command as `pgkeep restore` writes it, run in a data directory): a segment in
 * the spool of a live prefetcher is served without node, and again when asked for again (the
 * end of recovery re-reads the last one); an entry of another timeline is never served for the
 * name asked; an entry written to since it was checked, a killed prefetcher and a segment the
 * archive lacks go to node (which serves, or exits 1). "Not in the archive" is answered without
 * node only from the live prefetcher's recent check: a history file or segment archived after
 * such an answer is found once the check it came from is ABSENT_VALID_MS old.
 *
 * wal push (archive_command, [archive] async, as the server's OS user): an acknowledged segment
 * returns 0 without node; after the config file names another repository, or PGKEEP_REPO is set,
 * the push goes to node and the segment lands in the new repository.
 *
 * "Without node": the front's node is a stub (PGKEEP_NODE) that records being called, and either
 * fails (exit 3) or runs the real node.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser, serverOsUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { walObjectName } from '../holdings/index.js';
import { archivingSource, switchAndWait } from '../test-support/archiving-source.js';
import { faultTest } from '../test-support/faults.js';
import { nextWalFileName } from '../pg/wal-name.js';
import { pushSpoolDir } from '../wal/async-push/acks.js';
import { lockHolder } from '../wal/async-push/lock.js';
import { cleanSpoolRoot } from '../wal/spool-clean.js';
import { spoolChecksum } from '../wal/spool.js';
import { ABSENT_VALID_MS } from '../wal/absent.js';
import { pushWalFile } from '../wal/index.js';

const FRONT = fileURLToPath(new URL('../../bin/pgkeep', import.meta.url));
const SEGMENT = 16 * 1024 * 1024;

let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
let sysid: string;
const segs: string[] = [];
let called: string;
let failStub: string;
let passStub: string;

interface Run {
  code: number | null;
  node: boolean;
  stderr: string;
}

/** The front as `user` (default root) in `cwd`, with `node` as its node. */
function front(args: string[], o: { cwd: string; node: string; env?: Record<string, string>; user?: string }): Run {
  rmSync(called, { force: true });
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: work, PGKEEP_NODE: o.node, ...o.env };
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const r = o.user
    ? spawnSync('runuser', ['-u', o.user, '--', 'env', '-i', ...envArgs, FRONT, ...args], { cwd: o.cwd, encoding: 'utf8' })
    : spawnSync(FRONT, args, { cwd: o.cwd, env, encoding: 'utf8' });
  return { code: r.status, node: existsSync(called), stderr: r.stderr };
}

/** front(), without blocking this process (a timer of the test runs meanwhile). */
function frontAsync(args: string[], o: { cwd: string; node: string }): Promise<{ code: number | null; node: boolean }> {
  rmSync(called, { force: true });
  return new Promise((res) => {
    const c = spawn(FRONT, args, {
      cwd: o.cwd,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: work, PGKEEP_NODE: o.node },
      stdio: 'ignore',
    });
    c.on('exit', (code) => res({ code, node: existsSync(called) }));
  });
}

async function until<T>(what: string, ms: number, probe: () => T | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const segment = (r: Repository, name: string) => r.getObject(walObjectName('test', sysid, name));

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-front-test-'));
  ({ repoDir, repo, src } = await archivingSource(work, 100));
  sysid = (await src.controlData())['Database system identifier']!;
  for (let i = 0; i < 6; i++) {
    await src.exec(`insert into t select g, 'x' from generate_series(${1000 * (i + 1)}, ${1000 * (i + 1) + 50}) g`);
    segs.push(await switchAndWait(src));
  }
  called = join(work, 'node-called');
  failStub = join(work, 'node-fails');
  passStub = join(work, 'node-runs');
  writeFileSync(failStub, `#!/bin/sh\necho "$*" >> '${called}'\nexit 3\n`, { mode: 0o755 });
  writeFileSync(passStub, `#!/bin/sh\necho "$*" >> '${called}'\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  chownTreeToServerUser(work);
});

after(async () => {
  for (const d of dataDirs) await cleanSpoolRoot(join(d, 'pg_wal', 'pgkeep-spool')); // stops their prefetchers
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A data directory recovery would run restore_command in (PG_VERSION, pg_wal). */
const dataDirs: string[] = [];
function dataDir(name: string): string {
  const d = join(work, name);
  dataDirs.push(d);
  mkdirSync(join(d, 'pg_wal'), { recursive: true });
  writeFileSync(join(d, 'PG_VERSION'), '15\n');
  return d;
}

const getArgs = (name: string) => [
  '--repo',
  repoDir,
  '--cluster',
  'test',
  'wal',
  'get',
  '--prefetch',
  '3',
  '--system-id',
  sysid,
  name,
  'pg_wal/RECOVERYXLOG',
];

function spoolOf(d: string): string {
  const root = join(d, 'pg_wal', 'pgkeep-spool');
  return join(root, readdirSync(root).find((n) => n.endsWith(`-test-${sysid}`))!);
}

/** The spool entry of `name`, once the prefetcher has it (and has written .checked). */
async function spooled(spool: string, name: string): Promise<string> {
  return until(`${name} in the spool`, 30_000, () => {
    if (!existsSync(join(spool, '.checked'))) return undefined;
    const e = readdirSync(spool).find((n) => n.startsWith(`${name}.`) && n.length === 33);
    return e ? join(spool, e) : undefined;
  });
}

test('front get: a segment in a live prefetcher’s spool is served without node, the next one asked for', async () => {
  const d = dataDir('get-served');
  const first = front(getArgs(segs[0]!), { cwd: d, node: process.execPath });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), await segment(repo, segs[0]!));
  const spool = spoolOf(d);
  await spooled(spool, segs[1]!);
  const r = front(getArgs(segs[1]!), { cwd: d, node: failStub, env: { PGKEEP_LOG_LEVEL: 'debug' } });
  assert.deepEqual([r.code, r.node], [0, false], r.stderr);
  assert.match(r.stderr, /restored .* from the spool \(sh front\)/);
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), await segment(repo, segs[1]!), 'the right bytes');
  assert.equal(readFileSync(join(spool, '.want'), 'utf8'), segs[1], 'the prefetcher is told what recovery reached');
  rmSync(join(d, 'pg_wal', 'RECOVERYXLOG'));
  const again = front(getArgs(segs[1]!), { cwd: d, node: failStub });
  assert.deepEqual([again.code, again.node], [0, false], `asked for again (the end of recovery): ${again.stderr}`);
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), await segment(repo, segs[1]!), 'the same bytes again');
  // Another timeline at the same position: the entry of timeline 1 is never served for it.
  await spooled(spool, segs[3]!);
  const tl2 = `00000002${segs[3]!.slice(8)}`;
  assert.deepEqual([front(getArgs(tl2), { cwd: d, node: failStub }).node], [true], 'asked for timeline 2: node decides');
  const other = front(getArgs(tl2), { cwd: d, node: process.execPath });
  assert.equal(other.code, 1, `not in the archive: ${other.stderr}`);
  assert.ok(existsSync(await spooled(spool, segs[3]!)), 'the entry of timeline 1 stays');
  // Past the end of the archive: node, exit 1.
  let missing = segs[segs.length - 1]!;
  for (let i = 0; i < 3; i++) missing = nextWalFileName(missing, SEGMENT);
  assert.equal(front(getArgs(missing), { cwd: d, node: failStub }).node, true);
  assert.equal(front(getArgs(missing), { cwd: d, node: process.execPath }).code, 1);
  // History files the live prefetcher found missing: exit 1 without node; another one: node.
  await until('the prefetcher’s check of 00000002.history', 10_000, () => existsSync(join(spool, '.absent-00000002.history')));
  assert.deepEqual(pick(front(getArgs('00000002.history'), { cwd: d, node: failStub })), [1, false]);
  assert.equal(front(getArgs('00000009.history'), { cwd: d, node: failStub }).node, true, 'not watched: node');
});

const pick = (r: Run) => [r.code, r.node];

test('front get: a history file and a segment archived after an "absent" answer are found once that answer is ABSENT_VALID_MS old', async () => {
  const d = dataDir('get-appears');
  // The last archived segment served: the prefetcher's window reaches past the end of the archive.
  const last = segs[segs.length - 1]!;
  assert.equal(front(getArgs(last), { cwd: d, node: process.execPath }).code, 0);
  const spool = spoolOf(d);
  const next = nextWalFileName(last, SEGMENT);
  await until(
    'the absent answers',
    30_000,
    () => ['00000002.history', next].every((n) => existsSync(join(spool, `.absent-${n}`))) && existsSync(join(spool, '.checked')),
  );
  assert.deepEqual(pick(front(getArgs('00000002.history'), { cwd: d, node: failStub })), [1, false], 'absent, said by sh');
  assert.deepEqual(pick(front(getArgs(next), { cwd: d, node: failStub })), [1, false], 'past the end, said by sh');

  // A primary promoted elsewhere archives 00000002.history; the source archives `next`.
  const hist = join(work, '00000002.history');
  writeFileSync(hist, `1\t${next.slice(8, 16).replace(/^0+(?=.)/, '')}/${next.slice(22, 24)}000000\tno recovery target specified\n`);
  await pushWalFile(repo, { cluster: 'test', path: hist, pgdata: src.dataDir });
  await src.exec("insert into t select g, 'late' from generate_series(9000, 9010) g");
  assert.equal(await switchAndWait(src), next);
  const archived = Date.now();
  await new Promise((r) => setTimeout(r, ABSENT_VALID_MS + 50));
  // From now on no "absent" may come from a check made before they were archived.
  const h = front(getArgs('00000002.history'), { cwd: d, node: process.execPath });
  assert.equal(h.code, 0, `the history file is found ${Date.now() - archived} ms after it was archived: ${h.stderr}`);
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), readFileSync(hist));
  const g = front(getArgs(next), { cwd: d, node: process.execPath });
  assert.equal(g.code, 0, `the segment is found ${Date.now() - archived} ms after it was archived: ${g.stderr}`);
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), await segment(repo, next));
  // The prefetcher moved on: the next history file is the one answered "absent" now.
  await until('the check of 00000003.history', 10_000, () => existsSync(join(spool, '.absent-00000003.history')));
  assert.deepEqual(pick(front(getArgs('00000003.history'), { cwd: d, node: failStub })), [1, false]);
});

test('front get: a segment the live prefetcher is fetching right now is waited for, then served without node', async () => {
  const d = dataDir('get-inflight');
  assert.equal(front(getArgs(segs[0]!), { cwd: d, node: process.execPath }).code, 0);
  const spool = spoolOf(d);
  await until('.checked', 30_000, () => existsSync(join(spool, '.checked')));
  // Beyond the prefetcher's window (3 after the last served): only this test puts it there, with its marker.
  const late = segs[5]!;
  const data = await segment(repo, late);
  const marker = join(spool, `.fetching-${late}`);
  writeFileSync(marker, '');
  setTimeout(() => {
    const tmp = join(spool, `.tmp-${late}-test`);
    writeFileSync(tmp, data);
    const checked = statSync(join(spool, '.checked')).mtime;
    utimesSync(tmp, checked, checked); // as the prefetcher dates what it checked
    renameSync(tmp, join(spool, `${late}.${spoolChecksum(data)}`));
    rmSync(marker, { force: true });
  }, 400);
  const waited = await frontAsync(getArgs(late), { cwd: d, node: failStub });
  assert.deepEqual(waited, { code: 0, node: false }, 'served once fetched, without node');
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), data);
});

faultTest('front get: an entry written to after its check, and a killed prefetcher, go to node, which serves right', async () => {
  const d = dataDir('get-faults');
  assert.equal(front(getArgs(segs[0]!), { cwd: d, node: process.execPath }).code, 0);
  const spool = spoolOf(d);
  const entry = await spooled(spool, segs[1]!);
  const fd = openSync(entry, 'r+');
  try {
    writeSync(fd, Buffer.from([0x5a]), 0, 1, SEGMENT / 2 + 123);
  } finally {
    closeSync(fd);
  }
  assert.equal(front(getArgs(segs[1]!), { cwd: d, node: failStub }).node, true, 'written since checked: node checks it');
  const r = front(getArgs(segs[1]!), { cwd: d, node: process.execPath });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /does not match its checksum/);
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), await segment(repo, segs[1]!), 'read from the repository');

  await spooled(spool, segs[2]!);
  const pid = Number(readFileSync(join(spool, '.prefetch.pid'), 'utf8'));
  process.kill(pid, 'SIGKILL');
  await until(
    'the prefetcher to die',
    5_000,
    () => !existsSync(`/proc/${pid}/cmdline`) || readFileSync(`/proc/${pid}/cmdline`, 'utf8') === '',
  );
  assert.equal(front(getArgs(segs[2]!), { cwd: d, node: failStub }).node, true, 'no live prefetcher: node');
  const again = front(getArgs(segs[2]!), { cwd: d, node: process.execPath });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readFileSync(join(d, 'pg_wal', 'RECOVERYXLOG')), await segment(repo, segs[2]!));
});

test('front push: acknowledged segments return 0 without node; another repository in the config or PGKEEP_REPO goes to node and there', async () => {
  const user = serverOsUser()?.name ?? 'postgres';
  const repos = ['a', 'b', 'c'].map((n) => join(work, `push-${n}`));
  const opened: Repository[] = [];
  for (const r of repos) {
    mkdirSync(r);
    opened.push(await newPosixRepo(r));
  }
  const config = join(work, 'push.toml');
  const writeConfig = (r: string) => writeFileSync(config, `[repo]\npath = "${r}"\n\n[archive]\nasync = true\n`);
  writeConfig(repos[0]!);
  chownTreeToServerUser(work);
  try {
    // Segments the archiver queued (.ready) and no one archives: archive_command fails.
    await src.exec("alter system set archive_command = '/bin/false'");
    await src.exec('select pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 300));
    const pending: string[] = [];
    for (let i = 0; i < 3; i++) {
      await src.exec(`insert into t select g, md5(g::text) from generate_series(${90_000 + 1000 * i}, ${90_100 + 1000 * i}) g`);
      pending.push((await src.query<{ f: string }>('select pg_walfile_name(pg_switch_wal()) as f'))[0]!.f);
    }
    assert.equal(new Set(pending).size, 3, `three segments: ${pending.join(', ')}`);
    const args = (name: string) => ['--config', config, '--cluster', 'test', 'wal', 'push', `pg_wal/${name}`];
    const as = { cwd: src.dataDir, user };
    const first = front(args(pending[0]!), { ...as, node: process.execPath });
    assert.equal(first.code, 0, first.stderr);
    const acks = join(pushSpoolDir(join(src.dataDir, 'pg_wal', 'pgkeep-spool'), 'test', repos[0]!), 'acks');
    await until('the pusher to acknowledge the queue', 60_000, () => pending.every((p) => existsSync(join(acks, p))));
    const fast = front(args(pending[1]!), { ...as, node: failStub });
    assert.deepEqual([fast.code, fast.node], [0, false], `acknowledged: no node (${fast.stderr})`);
    assert.deepEqual(await segment(opened[0]!, pending[1]!), readFileSync(join(src.dataDir, 'pg_wal', pending[1]!)));

    writeConfig(repos[1]!); // the same file now names another repository
    const moved = front(args(pending[2]!), { ...as, node: passStub });
    assert.deepEqual([moved.code, moved.node], [0, true], `the config changed: node (${moved.stderr})`);
    assert.ok(await segment(opened[1]!, pending[2]!), 'pushed to the repository the config names now');

    const byEnv = front(args(pending[1]!), { ...as, node: passStub, env: { PGKEEP_REPO: repos[2]! } });
    assert.deepEqual([byEnv.code, byEnv.node], [0, true], `PGKEEP_REPO set: node (${byEnv.stderr})`);
    assert.ok(await segment(opened[2]!, pending[1]!), 'pushed to the repository PGKEEP_REPO names');
  } finally {
    for (const r of repos) {
      const pid = lockHolder(pushSpoolDir(join(src.dataDir, 'pg_wal', 'pgkeep-spool'), 'test', r));
      if (pid === undefined) continue;
      process.kill(pid, 'SIGTERM');
      await until(`pusher ${pid} to stop`, 15_000, () => !existsSync(`/proc/${pid}`));
    }
    for (const r of opened) await r.close();
  }
});

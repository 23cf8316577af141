/**
 * `pgkeep wal stream` as a separate process, the way it runs in production: killed with SIGKILL
 * it resumes with no gap when started again; SIGTERM stores the .partial and exits 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalCluster } from '../../pg/local-cluster.js';
import { DEFAULT_WAL_SEGMENT_SIZE, parseLsn, segmentStartLsn } from '../../pg/lsn.js';
import { segmentNumberOf, walFileName } from '../../pg/wal-name.js';
import { initRepository } from '../../repo/index.js';
import { listArchive } from '../../holdings/wal-listing.js';
import { walObjectName } from '../../holdings/wal-layout.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
const BIN = join(ROOT, 'bin', 'pgkeep.js');
const SEG = DEFAULT_WAL_SEGMENT_SIZE;
let cluster: LocalCluster;
let home: string;
let repoDir: string;
let systemId: string;

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'pgkeep-stream-cli-'));
  mkdirSync(join(home, 'work'));
  cluster = await LocalCluster.create({
    settings: { wal_level: 'replica', max_wal_senders: 10, max_replication_slots: 5, wal_keep_size: '1GB', fsync: false },
    hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
  });
  await cluster.start();
  await cluster.exec('CREATE TABLE t (id serial primary key, payload text)');
  repoDir = join(home, 'repo');
  const r = await initRepository({ path: repoDir });
  await r.closeAll();
  systemId = (await cluster.query<{ s: string }>('SELECT system_identifier::text AS s FROM pg_control_system()'))[0]!.s;
});

after(async () => {
  await cluster?.destroy();
  if (home) rmSync(home, { recursive: true, force: true });
});

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PGKEEP_|PG)/.test(k)) e[k] = v;
  return { ...e, HOME: home };
}

const globalArgs = (): string[] => ['--repo', repoDir, '-d', cluster.connectionString(), '--cluster', 'main', '--json'];

interface Child {
  proc: ChildProcess;
  lines: Record<string, any>[];
  stderr: () => string;
  exit: Promise<number | null>;
  waitFor(pred: (l: Record<string, any>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, any>>;
}

function startStream(extra: string[] = []): Child {
  const proc = spawn(
    process.execPath,
    [
      BIN,
      ...globalArgs(),
      'wal',
      'stream',
      '--slot',
      'pgkeep_cli',
      '--create-slot',
      '--partial-interval',
      '0.3',
      '--status-interval',
      '0.5',
      ...extra,
    ],
    { cwd: join(home, 'work'), env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: Record<string, any>[] = [];
  let buf = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) lines.push(JSON.parse(line));
    }
  });
  proc.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((res) => proc.on('close', (code) => res(code)));
  return {
    proc,
    lines,
    exit,
    stderr: () => err,
    async waitFor(pred, what, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find(pred);
        if (hit) return hit;
        if (proc.exitCode !== null)
          throw new Error(`wal stream exited (${proc.exitCode}) before ${what}: ${err}\n${JSON.stringify(lines)}`);
        if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms: ${err}\n${JSON.stringify(lines.slice(-5))}`);
        await sleep(50);
      }
    },
  };
}

async function fillAndSwitch(): Promise<string> {
  await cluster.exec(`INSERT INTO t (payload) SELECT repeat(md5(g::text), 4) FROM generate_series(1, 500) g`);
  const [r] = await cluster.query<{ name: string }>('SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name');
  await cluster.exec('SELECT pg_switch_wal()');
  return r!.name;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [BIN, ...args], { cwd: join(home, 'work'), env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', rej);
    p.on('close', (code) => res({ code, stdout, stderr }));
  });
}

test('kill -9 and restart resume with no gap; SIGTERM stores the .partial and exits 0', async () => {
  const a = startStream();
  let killed = false;
  try {
    const startA = await a.waitFor((l) => l.type === 'start', 'start');
    assert.equal(startA.source, 'slot');
    assert.ok(a.lines.some((l) => l.type === 'slot-created' && l.slot === 'pgkeep_cli'));
    const first: string[] = [await fillAndSwitch(), await fillAndSwitch()];
    for (const n of first) await a.waitFor((l) => l.type === 'segment' && l.file === n, `segment ${n}`);
    a.proc.kill('SIGKILL');
    killed = true;
    assert.equal(await a.exit, null, 'killed by a signal');
  } finally {
    if (!killed) a.proc.kill('SIGKILL');
  }

  // WAL written while no receiver runs: the slot keeps it
  const whileDown: string[] = [await fillAndSwitch(), await fillAndSwitch()];

  const b = startStream();
  try {
    const startB = await b.waitFor((l) => l.type === 'start', 'start');
    const archived = (await listArchive({ listObjects: (p) => listObjectsOf(p) }, 'main')).get(systemId)!;
    assert.equal(startB.source, 'repository');
    const lastBefore = archived.files
      .filter((f) => f.file.kind === 'segment')
      .map((f) => segmentNumberOf(f.file, SEG))
      .sort((x, y) => (x < y ? -1 : 1))
      .at(-1)!;
    assert.equal(parseLsn(startB.lsn), segmentStartLsn(lastBefore + 1n, SEG), 'resumes right after the last stored segment');
    for (const n of whileDown) await b.waitFor((l) => l.type === 'segment' && l.file === n, `segment ${n}`);
    const more = await fillAndSwitch();
    await b.waitFor((l) => l.type === 'segment' && l.file === more, `segment ${more}`);
    await cluster.exec(`INSERT INTO t (payload) SELECT 'tail ' || g FROM generate_series(1, 100) g`);
    const [cur] = await cluster.query<{ name: string; lsn: string }>(
      'SELECT pg_walfile_name(pg_current_wal_flush_lsn()) AS name, pg_current_wal_flush_lsn()::text AS lsn',
    );
    await b.waitFor((l) => l.type === 'progress' && parseLsn(l.receivedLsn) >= parseLsn(cur!.lsn), 'progress past the tail');
    b.proc.kill('SIGTERM');
    assert.equal(await b.exit, 0, b.stderr());
    const stopped = b.lines.find((l) => l.type === 'stopped');
    assert.equal(stopped?.partial, `${cur!.name}.partial`);
    const result = b.lines.at(-1)!;
    assert.equal(result.type, 'result');
    assert.equal(result.lastPartial, `${cur!.name}.partial`);
    assert.ok(parseLsn(result.receivedLsn) >= parseLsn(cur!.lsn));
  } finally {
    if (b.proc.exitCode === null) b.proc.kill('SIGKILL');
  }

  // the archive: continuous, byte-identical to pg_wal, plus the .partial of the current segment
  const sys = (await listArchive({ listObjects: (p) => listObjectsOf(p) }, 'main')).get(systemId)!;
  const segs = sys.files
    .filter((f) => f.file.kind === 'segment')
    .map((f) => segmentNumberOf(f.file, SEG))
    .sort((x, y) => (x < y ? -1 : 1));
  for (let i = 1; i < segs.length; i++) assert.equal(segs[i], segs[i - 1]! + 1n, `gap after segment ${segs[i - 1]}`);
  assert.ok(segs.length >= 5);
  const repo = await initOrOpen();
  try {
    for (const s of segs) {
      const name = walFileName(1, s, SEG);
      const data = await repo.getObject(walObjectName('main', systemId, name));
      assert.ok(data.equals(readFileSync(join(cluster.dataDir, 'pg_wal', name))), `${name} differs from pg_wal`);
    }
    const partials = sys.files.filter((f) => f.file.kind === 'partial').map((f) => f.file.name);
    assert.equal(partials.length, 1, `one .partial left: ${partials.join(', ')}`);
  } finally {
    await repo.closeAll();
  }

  // `pgkeep wal check` sees one continuous timeline
  const check = await run([...globalArgs(), 'wal', 'check']);
  const report = JSON.parse(check.stdout);
  assert.equal(report.timelines.length, 1, check.stdout + check.stderr);
  assert.deepEqual(report.timelines[0].gaps, []);
  assert.equal(report.timelines[0].segments, segs.length);
});

async function initOrOpen() {
  const { openRepository } = await import('../../repo/index.js');
  return openRepository({ path: repoDir });
}

async function* listObjectsOf(prefix: string) {
  const repo = await initOrOpen();
  try {
    yield* repo.listObjects(prefix);
  } finally {
    await repo.closeAll();
  }
}

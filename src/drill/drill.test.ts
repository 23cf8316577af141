/**
 * `pgkeep drill` on one real source cluster archiving through the real CLI, with a stream backup:
 * 1. a drill to the end of the archive restores, replays every archived record, passes pg_amcheck
 *    and a user check, counts the rows, leaves its record (phases adding up to the RTO, the wall
 *    time) in the repository, and removes its sandbox;
 * 2. a drill to a random moment recovers to a time within the archive;
 * 3. a user check that returns false fails the drill in phase "checks", naming the statement (CLI);
 * 4. a drill interrupted while its server starts leaves no server and no sandbox;
 * 5. last (it breaks the archive): one archived segment deleted from the repository fails the drill
 *    in phase "wal", naming the segment, before any file is restored.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalCluster } from '../pg/local-cluster.js';
import { chownTreeToServerUser } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { backup } from '../backup/index.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { faultTest } from '../test-support/faults.js';
import { archivingSource, batch, switchAndWait } from '../test-support/archiving-source.js';
import { spawn } from 'node:child_process';
import { PGKEEP_BIN, runPgkeep } from '../test-support/cli.js';
import { processesNaming } from '../test-support/processes.js';
import { drill, listDrillRecords, type DrillOptions, type DrillRecord } from './index.js';

let work: string;
let repoDir: string;
let repo: Repository;
let src: LocalCluster;
let sandboxes: string;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'pgkeep-drill-test-'));
  ({ repoDir, repo, src } = await archivingSource(work, 500));
  await backup({ repo, clusterName: 'test', cluster: src.connectionSettings(), method: 'stream', jobs: 2 });
  await batch(src, 1001, 200, 'after-backup');
  await switchAndWait(src);
  chownTreeToServerUser(repoDir); // restore_command runs as the server's OS user
  sandboxes = join(work, 'sandboxes');
  mkdirSync(sandboxes);
});

after(async () => {
  await repo?.close();
  await src?.destroy();
  if (work) rmSync(work, { recursive: true, force: true });
});

function options(extra: Partial<DrillOptions> = {}): DrillOptions {
  return {
    repo,
    cluster: 'test',
    access: { repo: repoDir, cluster: 'test' },
    sandboxParent: sandboxes,
    pgkeepVersion: 'test',
    maxDurationMs: 240_000,
    ...extra,
  };
}

function checkFile(name: string, sql: string): string {
  const f = join(work, name);
  writeFileSync(f, sql);
  return f;
}

test('a drill to the end of the archive restores, replays all of it, passes pg_amcheck and a user check, and records phases that add up to its RTO', async (t) => {
  const sql = checkFile('ok.sql', '-- the rows of the source\nselect count(*) = 700 from t;\n\\c template1\nselect true;\n');
  const t0 = Date.now();
  const r = await drill(options({ checkSql: sql }));
  const wall = (Date.now() - t0) / 1000;
  const rec = r.record;
  t.diagnostic(`RTO ${rec.rtoSeconds} s: ${rec.phases.map((p) => `${p.name} ${p.seconds} s`).join(', ')}; call ${wall} s`);
  assert.equal(rec.ok, true, `${rec.failedPhase}: ${rec.error}`);
  assert.deepEqual(
    rec.phases.map((p) => [p.name, p.ok]),
    [
      ['choose', true],
      ['restore', true],
      ['wal', true],
      ['start', true],
      ['checks', true],
    ],
  );
  // RTO = the sum of the phases = the wall time from the start to the end of the checks.
  const sum = rec.phases.reduce((s, p) => s + p.seconds, 0);
  assert.ok(Math.abs(sum - rec.rtoSeconds) < 0.001, `${sum} vs ${rec.rtoSeconds}`);
  const span = (Date.parse(rec.finishedAt) - Date.parse(rec.startedAt)) / 1000;
  assert.ok(Math.abs(span - rec.rtoSeconds) < 0.01, `started..finished ${span} s vs RTO ${rec.rtoSeconds} s`);
  assert.ok(
    rec.rtoSeconds <= wall + 0.01 && wall - rec.rtoSeconds < 15,
    `RTO ${rec.rtoSeconds} s within the call's ${wall} s (cleanup and record after)`,
  );
  assert.equal(rec.target.kind, 'latest');
  assert.match(rec.target.lsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
  assert.equal(rec.rpoSeconds, 0, 'the copy holds the newest archived commit');
  const check = (name: string) => {
    const c = rec.checks.find((x) => x.name.startsWith(name));
    assert.ok(c, `check ${name} among ${JSON.stringify(rec.checks, null, 1)}`);
    return c;
  };
  assert.equal(check('pg_amcheck')?.ok, true);
  assert.match(check('pg_amcheck')?.detail ?? '', /no corruption/, 'pg_amcheck 15 is installed here: it ran');
  assert.equal(check('connect postgres')?.ok, true);
  assert.equal(check('connect template1')?.ok, true);
  assert.match(check('rows postgres.public.t')?.detail ?? '', /^700 rows/, 'every row, also those archived after the backup');
  assert.equal(check('sql line 2: select count(*) = 700 from t')?.ok, true);
  assert.match(check('sql line 4: select true')?.detail ?? '', /database template1/);
  assert.deepEqual(readdirSync(sandboxes), [], 'the sandbox is removed');
  const listed = await listDrillRecords(repo, 'test');
  assert.deepEqual(listed.at(-1), rec, 'the record is in the repository');
  const list = await runPgkeep(['--repo', repoDir, '--cluster', 'test', '--json', 'drill', 'list']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual((JSON.parse(list.stdout) as DrillRecord[]).at(-1), rec, 'drill list --json: the evidence as stored');
  const show = await runPgkeep(['--repo', repoDir, '--cluster', 'test', 'drill', 'show', rec.id]);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, new RegExp(`drill ${rec.id} PASSED`));
  assert.match(show.stdout, /^RTO .*choose .*restore .*wal .*start .*checks/m);
});

test('a drill to a random moment recovers to a time between the end of the backup and the newest archived commit', async () => {
  const r = await drill(options({ target: 'random', randomDays: 1, random: () => 0.5 }));
  const rec = r.record;
  assert.equal(rec.ok, true, `${rec.failedPhase}: ${rec.error}`);
  assert.equal(rec.target.kind, 'random');
  const at = Date.parse(rec.target.time ?? '');
  assert.ok(rec.newestArchivedCommit, 'the newest archived commit is known');
  assert.ok(at < Date.parse(rec.newestArchivedCommit!), `${rec.target.time} before ${rec.newestArchivedCommit}`);
  assert.ok(at > Date.parse(rec.startedAt) - 3_600_000, 'within the window');
  assert.ok(rec.rpoSeconds === undefined || rec.rpoSeconds >= 0);
});

test('pgkeep drill with a user check that returns false fails in phase checks, naming the statement (exit 7)', async () => {
  const sql = checkFile('bad.sql', 'select count(*) > 0 from t;\nselect count(*) = 1 from t where id < 0;\n');
  const run = await runPgkeep(['--repo', repoDir, '--cluster', 'test', '--json', 'drill', '--check-sql', sql, '--sandbox-dir', sandboxes]);
  assert.equal(run.code, 7, run.stderr);
  const rec = JSON.parse(run.stdout) as DrillRecord;
  assert.equal(rec.ok, false);
  assert.equal(rec.failedPhase, 'checks');
  assert.equal(rec.errorCode, 'DATA_INTEGRITY');
  assert.match(rec.error ?? '', /sql line 2: select count\(\*\) = 1 from t where id < 0.*returned false/);
  assert.equal(rec.checks.find((c) => c.name.startsWith('sql line 1'))?.ok, true, 'the other checks are recorded too');
  assert.deepEqual(
    rec.phases.map((p) => p.ok),
    [true, true, true, true, false],
  );
  assert.deepEqual(readdirSync(sandboxes), [], 'the sandbox is removed after a failure too');
  const listed = await listDrillRecords(repo, 'test');
  assert.equal(listed.length, 3);
  assert.deepEqual(listed[2], rec, 'stored as printed, sorted by id (start time)');
});

faultTest(
  'pgkeep drill interrupted (SIGINT) while its server starts: exit 14, the server stopped, the sandbox removed, the failure recorded',
  async () => {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('PGKEEP_')) delete env[k];
    const child = spawn(process.execPath, [PGKEEP_BIN, '--repo', repoDir, '--cluster', 'test', 'drill', '--sandbox-dir', sandboxes], {
      env,
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
      // the restore phase is done: the sandbox server is starting
      if (/\brestore \([0-9.]+ s\)/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((res) => child.on('close', res));
    assert.equal(code, 14, stderr);
    const rec = (await listDrillRecords(repo, 'test')).at(-1)!;
    assert.equal(rec.ok, false);
    assert.equal(rec.failedPhase, 'wal', stderr);
    assert.equal(rec.errorCode, 'INTERRUPTED');
    assert.deepEqual(readdirSync(sandboxes), [], 'the sandbox is removed');
    await new Promise((res) => setTimeout(res, 2000)); // nothing started late either
    const servers = processesNaming(sandboxes);
    assert.deepEqual(servers, [], 'no server of the sandbox is left running');
  },
);

faultTest('one archived WAL segment deleted from the repository: the drill fails in phase wal, naming the segment', async () => {
  await batch(src, 2001, 100, 'gap');
  const missing = await switchAndWait(src);
  await batch(src, 3001, 100, 'after-gap');
  await switchAndWait(src);
  const [sys] = await src.query<{ id: string }>('select system_identifier::text as id from pg_control_system()');
  assert.equal(await repo.deleteObject(walObjectName('test', sys!.id, missing)), true);

  const r = await drill(options());
  const rec = r.record;
  assert.equal(rec.ok, false);
  assert.equal(rec.failedPhase, 'wal');
  assert.equal(rec.errorCode, 'NOT_FOUND');
  assert.match(rec.error ?? '', new RegExp(`${missing} is missing`));
  assert.deepEqual(
    rec.phases.map((p) => [p.name, p.ok]),
    [
      ['choose', true],
      ['wal', false],
    ],
    'nothing restored: the plan already knows the archive cannot reach its end',
  );
  assert.deepEqual(readdirSync(sandboxes), []);
  assert.equal((await listDrillRecords(repo, 'test')).at(-1)?.failedPhase, 'wal');
});

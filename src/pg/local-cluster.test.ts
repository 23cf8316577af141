import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { LocalCluster } from './local-cluster.js';
import { lookupOsUser } from './server-user.js';
import { connect } from './connect.js';

let c: LocalCluster;

before(async () => {
  c = await LocalCluster.create({ settings: { work_mem: '5MB' } });
});

after(async () => {
  await c?.destroy();
});

test('create: initdb with data checksums, not started, directories in place', async () => {
  assert.equal(c.running, false);
  assert.ok(existsSync(`${c.dataDir}/PG_VERSION`));
  assert.equal(Number(readFileSync(`${c.dataDir}/PG_VERSION`, 'utf8').trim()), c.major);
  assert.ok(c.port > 0);
  assert.ok(c.socketDir.startsWith(c.baseDir));
  const control = await c.controlData();
  assert.equal(control['Data page checksum version'], '1');
  assert.equal(control['Database cluster state'], 'shut down');
  if (process.getuid?.() === 0) {
    const pgUser = lookupOsUser('postgres')!;
    assert.equal(statSync(c.dataDir).uid, pgUser.uid, 'data directory belongs to the postgres OS user');
  }
});

test('controlData reads pg_controldata in the C locale, whatever language the user runs in', async () => {
  const saved = { LANGUAGE: process.env.LANGUAGE, LANG: process.env.LANG, LC_ALL: process.env.LC_ALL };
  Object.assign(process.env, { LANGUAGE: 'de', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }); // German translations are installed with PostgreSQL
  try {
    const control = await c.controlData();
    assert.match(control['Database system identifier'] ?? '', /^\d+$/, JSON.stringify(control));
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('start (on another port when its port was taken meanwhile) and query over the socket', async () => {
  const squatter = createServer();
  const taken = c.port;
  await new Promise<void>((res) => squatter.listen(taken, '127.0.0.1', res));
  try {
    await c.start();
  } finally {
    squatter.close();
  }
  assert.equal(c.running, true);
  assert.notEqual(c.port, taken);
  const [row] = await c.query<{ port: string; wm: string; cs: string; su: string }>(
    "select current_setting('port') as port, current_setting('work_mem') as wm, current_setting('data_checksums') as cs, current_user as su",
  );
  assert.equal(Number(row!.port), c.port);
  assert.equal(row!.wm, '5MB');
  assert.equal(row!.cs, 'on');
  assert.equal(row!.su, 'postgres');
  assert.ok(existsSync(`${c.socketDir}/.s.PGSQL.${c.port}`));
  assert.equal(c.logTail().length > 0, true);
});

test('exec runs several statements; query takes parameters and a database', async () => {
  await c.exec('create database app; ');
  await c.exec('create table t (id int primary key, v text); insert into t values (1, $$one$$), (2, $$two$$);', 'app');
  const rows = await c.query<{ v: string }>('select v from t where id = $1', [2], 'app');
  assert.deepEqual(rows, [{ v: 'two' }]);
  const out = await c.psql(['-At', '-c', 'select count(*) from t'], { database: 'app' });
  assert.equal(out.trim(), '2');
});

test('connectionString and connectionSettings work with connect()', async () => {
  assert.match(c.connectionString('app'), new RegExp(`^host=\\S+ port=${c.port} user=postgres dbname=app$`));
  const client = await connect(c.connectionSettings('app'));
  try {
    const r = await client.query('select current_database() as db');
    assert.equal(r.rows[0].db, 'app');
  } finally {
    await client.end();
  }
  assert.equal(c.connectionSettings().pgdata, c.dataDir);
});

test('configure + reload changes a setting', async () => {
  await c.configure({ work_mem: '7MB', log_min_duration_statement: 1000 });
  await c.reload();
  const [row] = await c.query<{ wm: string; lmds: string }>(
    "select current_setting('work_mem') as wm, current_setting('log_min_duration_statement') as lmds",
  );
  assert.equal(row!.wm, '7MB');
  assert.equal(row!.lmds, '1s');
});

test('pg_hba lines are put first and win after reload', async () => {
  await c.exec('create role blocked login; create role allowed login');
  const tcp = (user: string) =>
    new pg.Client({ host: '127.0.0.1', port: c.port, user, database: 'postgres', password: async () => undefined } as any);
  const before = tcp('blocked');
  await before.connect(); // initdb's rules trust TCP connections from 127.0.0.1
  await before.end();
  await c.configure({}, ['host all blocked 127.0.0.1/32 reject']);
  await c.reload();
  const denied = tcp('blocked');
  denied.on('error', () => {});
  await assert.rejects(denied.connect(), (e: any) => e.code === '28000' && /rejects connection/.test(e.message));
  const ok = tcp('allowed');
  await ok.connect();
  await ok.end();
  assert.match(readFileSync(`${c.dataDir}/pg_hba.conf`, 'utf8'), /^# added by pgkeep.*\nhost all blocked 127\.0\.0\.1\/32 reject\n/);
});

test('restart applies a setting that needs it', async () => {
  const t0 = (await c.query('select pg_postmaster_start_time()::text as t'))[0].t;
  await c.configure({ max_connections: 27 });
  await c.restart();
  const [row] = await c.query("select current_setting('max_connections') as mc, pg_postmaster_start_time()::text as t");
  assert.equal(row.mc, '27');
  assert.notEqual(row.t, t0);
});

test('stop, then a standby (standby.signal) starts in recovery and promote ends it on a new timeline', async () => {
  await c.stop();
  assert.equal(c.running, false);
  assert.equal(existsSync(`${c.dataDir}/postmaster.pid`), false);
  assert.equal((await c.controlData())['Database cluster state'], 'shut down');
  writeFileSync(`${c.dataDir}/standby.signal`, '');
  await c.start();
  assert.equal((await c.query('select pg_is_in_recovery() as r'))[0].r, true);
  await c.promote();
  assert.equal((await c.query('select pg_is_in_recovery() as r'))[0].r, false);
  const [w] = await c.query('select pg_walfile_name(pg_current_wal_lsn()) as f');
  assert.match(w.f, /^00000002/);
  assert.equal(existsSync(`${c.dataDir}/standby.signal`), false);
});

test('attach manages an existing data directory on another port, and leaves it in place', async () => {
  await c.stop();
  const other = await LocalCluster.attach(c.dataDir);
  try {
    assert.notEqual(other.baseDir, c.baseDir);
    await other.start();
    const rows = await other.query<{ v: string }>('select v from t order by id', [], 'app');
    assert.deepEqual(
      rows.map((r) => r.v),
      ['one', 'two'],
    );
    assert.equal(Number((await other.query('select current_setting($1) as p', ['port']))[0].p), other.port);
    assert.equal((await other.query("select current_setting('work_mem') as w"))[0].w, '7MB', 'other settings kept');
  } finally {
    await other.destroy();
  }
  assert.equal(existsSync(other.baseDir), false);
  assert.ok(existsSync(`${c.dataDir}/PG_VERSION`), 'attached data directory is not removed');
  await other.destroy(); // idempotent
  await c.configure({ port: c.port }); // attach rewrote port and socket: point them back at ours
  await c.configure({ unix_socket_directories: c.socketDir });
  await c.start();
  assert.equal((await c.query('select 1 as one'))[0].one, 1);
});

test('a failed start throws with the server log tail', async () => {
  await c.stop();
  await c.configure({ shared_buffers: 'not-a-size' });
  await assert.rejects(
    c.start({ timeoutSeconds: 20 }),
    (e: any) => e.code === 'SERVER_NOT_READY' && /shared_buffers/.test(e.hint) && /did not start.*shared_buffers/.test(e.message),
  );
  await c.configure({ shared_buffers: '32MB' });
  await c.start();
});

test('destroy stops the server and removes the directory; it is idempotent', async () => {
  const base = c.baseDir;
  await c.destroy();
  assert.equal(existsSync(base), false);
  await c.destroy();
  await assert.rejects(c.query('select 1'));
});

/** Run a child process that creates and starts a cluster and then forgets it. */
function forgetfulChild(how: 'exit' | 'sigterm'): Promise<{ base: string; pid: number }> {
  const modUrl = new URL('./local-cluster.js', import.meta.url).href;
  const script = `
    import { LocalCluster } from ${JSON.stringify(modUrl)};
    const c = await LocalCluster.create();
    await c.start();
    const pid = Number((await import('node:fs')).readFileSync(c.dataDir + '/postmaster.pid', 'utf8').split('\\n')[0]);
    console.log(JSON.stringify({ base: c.baseDir, pid }));
    ${how === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 1000);'}
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let info: { base: string; pid: number } | undefined;
    child.stdout.on('data', (d) => {
      out += d;
      if (!info && out.includes('\n')) {
        info = JSON.parse(out.split('\n')[0]!);
        if (how === 'sigterm') child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', () => (info ? resolve(info) : reject(new Error(`child failed: ${out}`))));
  });
}

/** True when the process exists and is not a zombie waiting for init to reap it. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

for (const how of ['exit', 'sigterm'] as const) {
  test(`safety net: a cluster forgotten by a process is stopped and removed on ${how}`, async () => {
    const { base, pid } = await forgetfulChild(how);
    assert.equal(alive(pid), false, 'postmaster is gone');
    assert.equal(existsSync(base), false, 'base directory removed');
  });
}

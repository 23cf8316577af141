/**
 * An S3 endpoint that accepts connections but never answers (a black hole), one that answers
 * only for pgkeep.json and then goes silent, and a closed port: `wal get`, `wal push` and
 * `backup` each end within the configured bound ([repo] s3_timeout, here 2 s) with a clear
 * REPOSITORY error and the exit code their caller needs (`wal get` 126: recovery stops instead
 * of taking a dead endpoint for "no such file"). SIGTERM ends a command stuck on such an
 * endpoint within a few seconds. No Ceph needed: the servers are local sockets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultTest } from '../../../test-support/faults.js';
import { runCli, type CliRun } from '../../../test-support/run-cli.js';
import { newRepoConfig } from '../../repo-config.js';

const home = mkdtempSync(join(tmpdir(), 'pgkeep-s3-timeouts-'));
const sockets = new Set<Socket>();
let blackHole: Server;
let silentAfterConfig: HttpServer;
let closedPort = 0;

function listen(s: Server | HttpServer): Promise<number> {
  return new Promise((res) => s.listen(0, '127.0.0.1', () => res((s.address() as { port: number }).port)));
}

before(async () => {
  mkdirSync(join(home, 'home'));
  writeFileSync(join(home, '00000002.history'), '1\t0/3000000\tno recovery target specified\n');
  // accepts, reads, never answers
  blackHole = createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  // a repository whose pgkeep.json is served; every other request is left unanswered
  const config = JSON.stringify(newRepoConfig('6b1e8f0c-0000-4000-8000-000000000001', 131072, 32 << 20, 'zstd:3', null));
  silentAfterConfig = createHttpServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0]?.endsWith('/pgkeep.json')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(config) });
      res.end(config);
      return;
    }
    sockets.add(req.socket);
    req.resume();
  });
  await listen(blackHole);
  await listen(silentAfterConfig);
  const probe = createServer();
  closedPort = await listen(probe);
  await new Promise((r) => probe.close(r));
});

after(async () => {
  for (const s of sockets) s.destroy();
  blackHole.close();
  silentAfterConfig.close();
  rmSync(home, { recursive: true, force: true });
});

function env(port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PGKEEP_|PG|AWS_)/.test(k)) base[k] = v;
  return {
    ...base,
    HOME: join(home, 'home'),
    PGKEEP_REPO: 's3://bucket/repo',
    PGKEEP_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    PGKEEP_S3_TIMEOUT: '2s',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    // a backup gets past its connection (none is needed before the repository fails)
    PGHOST: '127.0.0.1',
    PGPORT: '1',
    ...extra,
  };
}

const WAL_GET = ['wal', 'get', '--system-id', '7000000000000000001', '000000010000000000000003', join(home, 'seg')];
const WAL_PUSH = ['wal', 'push', join(home, '00000002.history')];

function assertBounded(r: CliRun, exit: number, what: RegExp, maxMs: number): void {
  const out = r.stdout + r.stderr;
  assert.equal(r.signal, null, `killed by ${r.signal} after ${r.ms} ms (it hung): ${out}`);
  assert.equal(r.code, exit, out);
  assert.match(out, what);
  assert.ok(r.ms < maxMs, `took ${r.ms} ms (bound ${maxMs} ms)`);
}

const TIMED_OUT = /gave no complete answer within 2s \(s3_timeout\)/;

faultTest('black-holed S3 endpoint: wal get exits 126 within the bound', async () => {
  const r = await runCli(WAL_GET, { env: env((blackHole.address() as { port: number }).port), hardLimitMs: 60_000 });
  assertBounded(r, 126, TIMED_OUT, 15_000);
  assert.match(r.stderr, /127\.0\.0\.1:\d+/); // names the endpoint
});

faultTest('S3 endpoint silent after pgkeep.json: wal get, wal push and backup each fail within the bound', async () => {
  const port = (silentAfterConfig.address() as { port: number }).port;
  const [get, push, backup] = await Promise.all([
    runCli(WAL_GET, { env: env(port), hardLimitMs: 60_000 }),
    runCli(WAL_PUSH, { env: env(port), hardLimitMs: 60_000 }),
    runCli(['backup'], { env: env(port), hardLimitMs: 60_000 }),
  ]);
  assertBounded(get, 126, TIMED_OUT, 15_000);
  assertBounded(push, 6, TIMED_OUT, 15_000);
  // the backup fails on its lock or its first read, or on the server connection (PGPORT=1): never hangs
  assert.equal(backup.signal, null, `backup hung: ${backup.stderr}`);
  assert.ok(backup.ms < 15_000, `backup took ${backup.ms} ms`);
  assert.notEqual(backup.code, 0);
});

faultTest('refused S3 connection: wal get exits 126, wal push 6, quickly and naming the cause', async () => {
  const [get, push] = await Promise.all([
    runCli(WAL_GET, { env: env(closedPort), hardLimitMs: 60_000 }),
    runCli(WAL_PUSH, { env: env(closedPort), hardLimitMs: 60_000 }),
  ]);
  assertBounded(get, 126, /ECONNREFUSED|gave no complete answer/, 15_000);
  assertBounded(push, 6, /ECONNREFUSED|gave no complete answer/, 15_000);
});

faultTest('SIGTERM ends wal get (126) and wal push (14) stuck on a black hole within seconds', async () => {
  const port = (blackHole.address() as { port: number }).port;
  const slow = { PGKEEP_S3_TIMEOUT: '120s' };
  const [get, push] = await Promise.all([
    runCli(WAL_GET, { env: env(port, slow), kill: 'SIGTERM', killAfterMs: 1500, hardLimitMs: 60_000 }),
    runCli(WAL_PUSH, { env: env(port, slow), kill: 'SIGTERM', killAfterMs: 1500, hardLimitMs: 60_000 }),
  ]);
  for (const [r, exit] of [
    [get, 126],
    [push, 14],
  ] as const) {
    assert.equal(r.signal, null, `still running ${r.msAfterKill} ms after SIGTERM: ${r.stderr}`);
    assert.equal(r.code, exit, r.stderr);
    assert.match(r.stderr, /interrupted by SIGTERM/);
    assert.ok(r.msAfterKill! < 6_000, `exited ${r.msAfterKill} ms after SIGTERM`);
  }
});

test('an invalid s3_timeout is a configuration error', async () => {
  const r = await runCli(WAL_PUSH, { env: env(closedPort, { PGKEEP_S3_TIMEOUT: 'soon' }) });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /invalid duration "soon" \(from PGKEEP_S3_TIMEOUT\)/);
});

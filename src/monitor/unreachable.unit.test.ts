/**
 * Network gone: an S3 endpoint that accepts and never answers, a server port nobody listens on.
 * `pgkeep status` still ends, within its bounds, with the repository CRITICAL (exit 2); and a
 * round ends at its own bound even when the repository's timeout is longer.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { runPgkeep } from '../test-support/cli.js';
import { faultTest } from '../test-support/faults.js';
import { gatherClusterFacts, runChecks } from './index.js';

const home = mkdtempSync(join(tmpdir(), 'pgkeep-monitor-unreachable-'));
const sockets = new Set<Socket>();
let blackHole: Server;
let port = 0;

before(async () => {
  mkdirSync(join(home, 'home'));
  blackHole = createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
  port = (blackHole.address() as { port: number }).port;
});

after(() => {
  for (const s of sockets) s.destroy();
  blackHole.close();
  rmSync(home, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(PGKEEP_|PG|AWS_)/.test(k)) base[k] = v;
  return {
    ...base,
    HOME: join(home, 'home'),
    PGKEEP_REPO: 's3://bucket/repo',
    PGKEEP_S3_ENDPOINT: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    PGKEEP_CONNECTION: 'host=127.0.0.1 port=1 connect_timeout=2',
    ...extra,
  };
}

faultTest('status with a black-holed S3 repository and no server: exit 2 within the S3 timeout, repository CRITICAL', async () => {
  const t0 = Date.now();
  const r = await runPgkeep(['--json', 'status'], { env: env({ PGKEEP_S3_TIMEOUT: '2s' }) });
  const ms = Date.now() - t0;
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const checks = JSON.parse(r.stdout).clusters[0].checks;
  const repo = checks.find((c: { check: string }) => c.check === 'repository');
  assert.equal(repo.state, 'CRITICAL');
  assert.match(repo.reason, /^repository unreachable: /);
  assert.equal(checks.find((c: { check: string }) => c.check === 'archive').state, 'UNKNOWN');
  assert.ok(ms < 20_000, `took ${ms} ms`);
});

faultTest('a round ends at its own bound when the repository would wait longer', async () => {
  // The S3 client reads its credentials from this process's environment (this test file's own process).
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true' });
  const config = loadConfig({}, env({ PGKEEP_S3_TIMEOUT: '120s' }));
  const t0 = Date.now();
  const facts = await gatherClusterFacts(config, 'main', { timeoutMs: 1500 });
  const ms = Date.now() - t0;
  assert.ok(ms < 5000, `took ${ms} ms`);
  assert.match(facts.repoError ?? '', /no answer in time/);
  assert.equal(runChecks(facts, config.monitor).find((c) => c.check === 'repository')!.state, 'CRITICAL');
});

/**
 * `backup --checkpoint fast|spread` on a real server with log_checkpoints on: the checkpoint that
 * starts each backup is logged as "immediate" by default (fast) and without it for spread, for
 * --method stream (BASE_BACKUP) and --method local (pg_backup_start); a bad value is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { LocalCluster } from '../pg/local-cluster.js';
import { runPgkeep } from '../test-support/cli.js';
import { backup, type BackupOptions } from './index.js';
import { REPLICATION_SOURCE, sourceAndRepo } from './test-support.js';

const f = sourceAndRepo('pgkeep-backup-checkpoint-', async () => {
  const c = await LocalCluster.create({ ...REPLICATION_SOURCE, settings: { ...REPLICATION_SOURCE.settings, log_checkpoints: 'on' } });
  await c.start();
  await c.exec('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g');
  return c;
});

/** The "checkpoint starting: ..." flags the server logged while one backup ran. */
async function checkpointsDuring(opts: Partial<BackupOptions>): Promise<string[]> {
  const { source, repo } = f;
  await source.exec('CHECKPOINT'); // little to write: a spread checkpoint ends soon too
  await source.exec(`UPDATE t SET v = v || 'x' WHERE id <= 10`);
  const from = statSync(source.logFile).size;
  await backup({ repo, clusterName: 'main', cluster: source.connectionSettings(), standalone: true, jobs: 1, ...opts });
  const log = readFileSync(source.logFile).subarray(from).toString('utf8');
  return [...log.matchAll(/checkpoint starting: ([^\n]*)/g)].map((m) => m[1]!.trim());
}

test('--method stream: fast by default (an immediate checkpoint), --checkpoint spread asks for a spread one', async () => {
  assert.deepEqual(await checkpointsDuring({ method: 'stream' }), ['immediate force wait']);
  assert.deepEqual(await checkpointsDuring({ method: 'stream', checkpoint: 'fast' }), ['immediate force wait']);
  assert.deepEqual(await checkpointsDuring({ method: 'stream', checkpoint: 'spread' }), ['force wait']);
});

test('--method local: pg_backup_start gets the same choice', async () => {
  assert.deepEqual(await checkpointsDuring({ method: 'local' }), ['immediate force wait']);
  assert.deepEqual(await checkpointsDuring({ method: 'local', checkpoint: 'spread' }), ['force wait']);
});

test('--checkpoint takes fast or spread only, and not with --method cold: usage errors before anything connects', async () => {
  const r = await runPgkeep(['--repo', f.work.path, 'backup', '--checkpoint', 'slow']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /fast, spread/);
  const cold = await runPgkeep(['--repo', f.work.path, 'backup', '--method', 'cold', '--checkpoint', 'spread']);
  assert.equal(cold.code, 2, cold.stderr);
  assert.match(cold.stderr, /--checkpoint applies to hot backups/);
});

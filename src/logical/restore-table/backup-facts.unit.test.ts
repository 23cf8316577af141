/** restore-table reads the manifest of the backup it restores, and only that one: another damaged manifest does not stop it. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { faultTest } from '../../test-support/faults.js';
import { newPosixRepo, randomData, tempDir } from '../../repo/test-utils.js';
import { backupFacts } from './backup-facts.js';
import { physicalMetaRecord } from '../../holdings/physical-meta.fixtures.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  dir = await tempDir('pgkeep-facts-');
});
after(async () => {
  await dir.remove();
});

faultTest("another snapshot's damaged manifest does not stop restore-table from reading its backup's facts", async () => {
  const path = join(dir.path, 'repo');
  const repo = await newPosixRepo(path);
  const ids: string[] = [];
  for (const [method, version] of [
    ['stream', 150004],
    ['local', 160002],
  ] as const) {
    const w = await repo.startSnapshot({ cluster: 'main', kind: 'physical' });
    await w.addFile({ path: 'PG_VERSION', type: 'file', mode: 0o600, mtimeMs: 1 }, randomData(1000));
    ids.push((await w.commit(physicalMetaRecord({ method, serverVersionNum: version }))).id);
  }
  const manifests = join(path, 'snapshots', 'main');
  const damaged = join(manifests, readdirSync(manifests).find((f) => f.startsWith(ids[0]!))!);
  const bad = readFileSync(damaged);
  bad[bad.length - 20]! ^= 0x01;
  writeFileSync(damaged, bad);
  assert.deepEqual(await backupFacts(repo, 'main', ids[1]!), { method: 'local', major: 16 });
  await assert.rejects(
    backupFacts(repo, 'main', ids[0]!),
    (e: Error & { code?: string }) => e.code === 'DATA_INTEGRITY',
    'the damaged one itself is still an integrity error',
  );
  await repo.close();
});

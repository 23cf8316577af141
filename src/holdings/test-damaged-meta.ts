/** Helpers of the damaged-meta tests (read-physical-meta, read-dump-meta): the expected error, the cases, a repository holding one snapshot. */
import assert from 'node:assert/strict';
import { PgkeepError } from '../errors.js';
import type { Repository, SnapshotKind } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import type { MetaSource } from './meta-fields.js';

/** The DATA_INTEGRITY error for `field` of snapshot `id`. */
export function damagedField(id: string, field: string) {
  return (e: unknown) => {
    assert.ok(e instanceof PgkeepError, `a PgkeepError, not ${String(e)}`);
    assert.equal(e.code, 'DATA_INTEGRITY');
    assert.match(e.message, new RegExp(`snapshot ${id}\\b`));
    assert.match(e.message, new RegExp(`field "${field.replace(/[[\].]/g, '\\$&')}"`));
    assert.deepEqual(e.details?.field, field);
    return true;
  };
}

export type DamageCase = [field: string, damage: (m: Record<string, unknown>) => void];

/** Each case damages a fresh good record; `read` must refuse it naming the field. A null meta is refused as "meta". */
export function assertDamagedCases(read: (m: MetaSource) => unknown, fresh: () => Record<string, unknown>, cases: DamageCase[]): void {
  const id = '20260102T030405Z-0001';
  const source = (meta: unknown) => ({ id, cluster: 'main', meta: meta as Record<string, unknown> });
  for (const [field, damage] of cases) {
    const raw = fresh();
    damage(raw);
    assert.throws(() => read(source(raw)), damagedField(id, field), field);
  }
  assert.throws(() => read(source(null)), damagedField(id, 'meta'));
}

/** A posix repository in a temp dir holding one snapshot of cluster "main" with meta `raw` and one file. */
export async function repoWithOneSnapshot(kind: SnapshotKind, file: string, raw: Record<string, unknown>) {
  const dir = await tempDir('pgkeep-meta-');
  const repo: Repository = await newPosixRepo(dir.path);
  const w = await repo.startSnapshot({ cluster: 'main', kind });
  await w.addFile({ path: file, type: 'file', mode: 0o600, mtimeMs: Date.now() }, Buffer.from('data\n'));
  const id = (await w.commit(raw)).id;
  return {
    repo,
    id,
    remove: async () => {
      await repo.close();
      await dir.remove();
    },
  };
}

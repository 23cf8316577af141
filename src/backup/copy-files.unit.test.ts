import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotManifest } from '../repo/index.js';
import { newPosixRepo, tempDir } from '../repo/test-utils.js';
import { copyFiles } from './copy-files.js';
import type { SourceFile } from './file-list.js';
import type { FilePlan } from './unchanged-files.js';

const CHUNK = 128 * 1024;

for (const kind of ['reuse', 'patch'] as const) {
  test(`a file kept (${kind}) from the WAL summaries is not reused by size and mtime later if it was written after the backup started`, async () => {
    const work = await tempDir('pgkeep-copy-files-');
    const repo = await newPosixRepo(join(work.path, 'repo'));
    try {
      const dir = join(work.path, 'data', 'base', '5');
      mkdirSync(dir, { recursive: true });
      const abs = join(dir, '16384');
      const before = Buffer.alloc(3 * CHUNK, 1);
      writeFileSync(abs, before);
      const listed = (): SourceFile => {
        const st = statSync(abs);
        return { path: 'base/5/16384', absPath: abs, type: 'file', mode: 0o600, size: st.size, mtimeMs: st.mtimeMs };
      };
      const snapshot = async (previous: SnapshotManifest | undefined, reuseBefore: number | undefined, fromSummaries = false) => {
        const writer = await repo.startSnapshot({ cluster: 'main', kind: 'physical', ...(previous ? { previous } : {}), jobs: 1 });
        // reuse: no block changed; patch: only chunk 0 changed (its new content is read)
        const plan = async (f: SourceFile): Promise<FilePlan> =>
          kind === 'reuse'
            ? { kind, previous: (await writer.previousFile(f.path))! }
            : { kind, previous: (await writer.previousFile(f.path))!, read: [0] };
        await copyFiles({
          writer,
          entries: [listed()],
          jobs: 1,
          ...(reuseBefore !== undefined ? { reuseBefore } : {}),
          ...(fromSummaries ? { plan, chunkSize: CHUNK } : {}),
        });
        return writer.commit({});
      };
      const first = await snapshot(undefined, undefined);

      // backup 2 starts; then the server writes the file; the WAL summaries (up to the start) show no
      // change, so the previous record is kept (the write is replayed from WAL on restore)
      const start2 = Date.now() - 10_000;
      const after = Buffer.alloc(3 * CHUNK, 2);
      writeFileSync(abs, after);
      const second = await snapshot(first, start2, true);
      const kept = await (await repo.readSnapshot('main', second.id)).file('base/5/16384');
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      if (kind === 'reuse') assert.equal(kept?.sha256, sha(before), 'backup 2 holds the content as of its start');
      else
        assert.deepEqual(
          kept?.chunks.map((c) => c.sha256),
          [sha(after.subarray(0, CHUNK)), sha(before.subarray(CHUNK, 2 * CHUNK)), sha(before.subarray(2 * CHUNK))],
        );

      // backup 3 starts well after the write, without the summaries (say they were removed): the size
      // and mtime rule must not take backup 2's record, which lacks the write
      const third = await snapshot(second, Date.now() + 10_000);
      const record = await (await repo.readSnapshot('main', third.id)).file('base/5/16384');
      assert.equal(record?.sha256, createHash('sha256').update(after).digest('hex'), 'backup 3 read the file');
    } finally {
      await repo.close();
      await work.remove();
    }
  });
}

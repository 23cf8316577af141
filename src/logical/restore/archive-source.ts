/** Where pg_restore reads the archive: a custom archive from stdin, except for pg_restore -j; directories go to disk. */

import { join } from 'node:path';
import type { DumpMeta } from '../meta.js';
import type { DbStep } from './database-step.js';
import { materialize, materializeFile } from './run-restore.js';
import { requireRoom, stagingWrite } from './staging-room.js';

export interface ArchiveSource {
  /** A copy on disk (in `tmp`), or */
  archive?: string;
  /** the stream from the repository. */
  input?: ReturnType<DbStep['o']['repo']['readFile']>;
}

/** A copy of the archive out of the repository into `tmp`, when there is room for it. */
export async function fetchArchive(s: DbStep, tmp: string, copy: () => Promise<void>): Promise<void> {
  requireRoom(tmp, s.db.bytes, s.db.name);
  s.progress({ step: 'fetching the archive from the repository' });
  await stagingWrite(tmp, s.db.bytes, copy);
}

export async function archiveSource(s: DbStep, meta: DumpMeta, tmp: string): Promise<ArchiveSource> {
  const { o, snapshot, db } = s;
  if (meta.format === 'directory') {
    const archive = join(tmp, 'archive');
    await fetchArchive(s, tmp, () => materialize(o.repo, snapshot, db.path, archive, o.signal));
    return { archive };
  }
  if ((o.jobs ?? 1) > 1) {
    const archive = join(tmp, 'archive.dump');
    await fetchArchive(s, tmp, () => materializeFile(o.repo, snapshot, db.path, archive, o.signal));
    return { archive };
  }
  return { input: o.repo.readFile(snapshot, db.path, { signal: o.signal }) };
}

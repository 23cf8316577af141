/** Where pg_restore reads the archive: a custom archive from stdin, except in parallel; directories go to disk. */

import { join } from 'node:path';
import type { DumpMeta } from '../meta.js';
import type { DbStep } from './database-step.js';
import { materialize, materializeFile } from './run-restore.js';

export interface ArchiveSource {
  /** A copy on disk (in `tmp`), or */
  archive?: string;
  /** the stream from the repository. */
  input?: ReturnType<DbStep['o']['repo']['readFile']>;
}

export async function archiveSource(s: DbStep, meta: DumpMeta, tmp: string): Promise<ArchiveSource> {
  const { o, snapshot, db } = s;
  if (meta.format === 'directory') {
    const archive = join(tmp, 'archive');
    s.progress({ step: 'fetching the archive from the repository' });
    await materialize(o.repo, snapshot, db.path, archive, o.signal);
    return { archive };
  }
  if ((o.jobs ?? 1) > 1) {
    const archive = join(tmp, 'archive.dump');
    s.progress({ step: 'fetching the archive from the repository' });
    await materializeFile(o.repo, snapshot, db.path, archive, o.signal);
    return { archive };
  }
  return { input: o.repo.readFile(snapshot, db.path, { signal: o.signal }) };
}

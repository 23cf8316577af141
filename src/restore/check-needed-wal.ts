/**
 * Step "check WAL" of a restore: the archived segments a hot, non-standalone backup needs to
 * become consistent are read back and checked before anything is written, so a damaged one
 * stops the restore here instead of the server at start-up. A segment that is not archived (yet)
 * is left to recovery, as before: it may still reach the archive, or come from elsewhere.
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { checkNeededWal, needsArchivedWal } from '../holdings/needed-wal.js';

export async function checkNeededWalBeforeRestore(
  repo: Pick<Repository, 'statObject' | 'getObject'>,
  cluster: string,
  snapshotId: string,
  meta: PhysicalBackupMeta,
  signal?: AbortSignal,
): Promise<void> {
  if (!needsArchivedWal(meta)) return;
  const report = await checkNeededWal(repo, cluster, meta, { signal, concurrency: 4 });
  const damaged = report.problems.filter((p) => !p.missing).map(({ file, problem }) => ({ file, problem }));
  if (damaged.length === 0) return;
  throw new PgkeepError(
    'DATA_INTEGRITY',
    `snapshot ${snapshotId} cannot become consistent: archived WAL it needs is damaged: ` +
      damaged.map((d) => `${d.file} (${d.problem})`).join('; '),
    {
      hint:
        "nothing was written. Push the segment again from the server's pg_wal if it is still there " +
        '("pgkeep wal push"), or restore another backup; "pgkeep wal check --read-data" lists every damaged file',
      details: { snapshot: snapshotId, damaged },
    },
  );
}

/**
 * A restore target that cannot take the data — full disk, quota, file too large, read-only file
 * system, missing permission — is the user's problem, not a bug: CONFLICT naming the directory,
 * with the file system's free space and what the restore needs. The directory keeps its
 * in-progress marker (begin.ts), so it is never mistaken for a complete cluster, and a rerun
 * with --delta resumes.
 */
import { diskFullError } from '../errors.js';
import type { RestoreOptions, RestoreProgress, RestoreResult } from './types.js';

/** Run a restore, turning raw file-system errors of the target into CONFLICT with a hint. */
export async function withTargetErrors(
  dataDir: string,
  o: RestoreOptions,
  run: (o: RestoreOptions) => Promise<RestoreResult>,
): Promise<RestoreResult> {
  let last: RestoreProgress | undefined;
  const watched: RestoreOptions = {
    ...o,
    onProgress: (p) => {
      last = p;
      o.onProgress?.(p);
    },
  };
  try {
    return await run(watched);
  } catch (e) {
    const began = last !== undefined && !['resolve', 'check-target', 'plan'].includes(last.step);
    throw (
      diskFullError(e, {
        what: 'restore target',
        dir: dataDir,
        needed: last?.bytesTotal || undefined,
        done: began ? last?.bytesDone : undefined,
        then: began
          ? 'the directory is marked incomplete (.pgkeep-restore-in-progress); run the same restore again with --delta to resume'
          : undefined,
      }) ?? e
    );
  }
}

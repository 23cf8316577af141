/**
 * What each scheduled job runs: one or more `pgkeep` commands, in order (the next runs only when
 * the one before succeeded). Every backup is incremental in what it stores and complete on its
 * own; a "full" backup also reads every file (--checksum-all) instead of trusting size and mtime,
 * so it catches changes an mtime would hide and re-checks every page. A drill restores into a
 * sandbox on the agent's host and records its result in the repository (docs/operations.md).
 */
export const JOB_KINDS = ['backup_full', 'backup_incremental', 'dump', 'expire', 'verify', 'drill'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Jobs of one group never run at the same time for a cluster (a full and an incremental backup are one group). */
export function jobGroup(kind: JobKind): string {
  return kind.startsWith('backup_') ? 'backup' : kind;
}

export function jobSteps(kind: JobKind, opts: { backupMethod: string }): string[][] {
  switch (kind) {
    case 'backup_full':
      return [['backup', '--method', opts.backupMethod, '--checksum-all']];
    case 'backup_incremental':
      return [['backup', '--method', opts.backupMethod]];
    case 'dump':
      return [['dump', '--all']];
    case 'expire':
      return [['expire'], ['repo', 'gc']];
    case 'verify':
      return [['verify', 'latest']];
    case 'drill':
      // its options come from [drill] of the same config file (target, check_sql, max_duration...)
      return [['drill']];
  }
}

export function streamArgs(slot: string | undefined): string[] {
  return ['wal', 'stream', '--status-interval', '5', ...(slot ? ['--slot', slot, '--create-slot'] : [])];
}

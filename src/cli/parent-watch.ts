/**
 * A `pgkeep` command started by the agent stops with it. The agent names itself in
 * PGKEEP_STOP_WITH_PARENT (its pid); should the agent die without stopping its children (kill -9,
 * OOM killer), the child is re-parented, notices within a second, and interrupts itself as on
 * SIGTERM: a backup unwinds publishing nothing half-done, `wal stream` stores its .partial. A new
 * agent then never finds an orphaned receiver holding the replication slot.
 */
export const PARENT_ENV = 'PGKEEP_STOP_WITH_PARENT';
const CHECK_MS = 1_000;

export function stopWithParent(env: NodeJS.ProcessEnv = process.env): void {
  const parent = Number(env[PARENT_ENV]);
  // Programs this command starts (pg_dump, a server whose restore_command runs pgkeep) are not
  // the agent's children: they must not inherit the watch.
  delete env[PARENT_ENV];
  if (!Number.isInteger(parent) || parent <= 0 || process.ppid !== parent) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, CHECK_MS);
  timer.unref();
}

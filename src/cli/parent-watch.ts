/**
 * A `pgkeep` command started by the agent stops with it. The agent names itself in
 * PGKEEP_STOP_WITH_PARENT (its pid); should the agent die without stopping its children (kill -9,
 * OOM killer) — even before the child got this far —, the child finds itself re-parented within
 * a second and interrupts itself as on SIGTERM: a backup unwinds publishing nothing half-done,
 * `wal stream` stores its .partial. A new agent then never finds an orphaned receiver holding
 * the replication slot. The variable is removed at once, so nothing the command starts (pg_dump,
 * a server whose restore_command runs pgkeep) inherits the watch.
 */
export const PARENT_ENV = 'PGKEEP_STOP_WITH_PARENT';
const CHECK_MS = 1_000;

export function stopWithParent(env: NodeJS.ProcessEnv = process.env): void {
  const parent = Number(env[PARENT_ENV]);
  delete env[PARENT_ENV];
  if (!Number.isInteger(parent) || parent <= 0) return;
  const orphaned = (): boolean => {
    if (process.ppid === parent) return false;
    process.kill(process.pid, 'SIGTERM');
    return true;
  };
  if (orphaned()) return;
  const timer = setInterval(() => {
    if (orphaned()) clearInterval(timer);
  }, CHECK_MS);
  timer.unref();
}

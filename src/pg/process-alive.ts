import { readFileSync } from 'node:fs';

/**
 * Is a process alive? (signal 0; EPERM means it exists but belongs to another user). A zombie —
 * exited, waiting for its parent or init to reap it — is not: a wait on a process's end would
 * otherwise last until the reaping, which some inits do late (seen: 1.5 s at the end of every
 * prefetching recovery).
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux /proc/PID/stat: "pid (comm) S ..." where S is the state (the comm may hold ')' itself). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
  } catch {
    return false; // no /proc (not Linux) or gone meanwhile: signal 0 said it exists
  }
}

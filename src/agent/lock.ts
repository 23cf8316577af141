/**
 * One agent per repository and host: a lock file (agent.lock) created exclusively in the
 * agent's state directory, holding the holder's pid. A lock whose process is gone (crash, kill -9,
 * reboot) is taken over and reported; a live one refuses the second agent with LOCKED, and so
 * does a lock written by another host (a state directory shared over NFS: its holder cannot be
 * checked from here).
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { PgkeepError } from '../errors.js';
import { processAlive } from '../pg/process-alive.js';

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
  repository: string;
}

export interface AgentLock {
  /** The holder that was found dead and replaced, if any. */
  replaced?: LockContent;
  /** Is the lock file still ours? (someone may have removed it by hand). */
  held(): boolean;
  release(): void;
}

function readLock(file: string): LockContent | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockContent;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    // Half-written or damaged: treat it as a lock of a dead holder.
    return { pid: 0, host: hostname(), startedAt: '', repository: '' };
  }
}

function alive(c: LockContent): boolean {
  return c.pid > 0 && c.pid !== process.pid && processAlive(c.pid);
}

export function takeAgentLock(file: string, repository: string): AgentLock {
  const mine: LockContent = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), repository };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(mine) + '\n', { mode: 0o600 });
  let replaced: LockContent | undefined;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file); // fails with EEXIST when a lock is there: the one atomic step
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw e;
      }
      const other = readLock(file);
      if (other && other.host !== hostname()) {
        // Whether that agent lives cannot be told from here: never take its lock over.
        throw new PgkeepError(
          'LOCKED',
          `the agent lock ${file} belongs to host ${other.host} (pid ${other.pid}, started ${other.startedAt}): is the state directory shared between hosts?`,
          {
            hint: `give each host its own [agent] state_dir; if the agent on ${other.host} is gone for good, remove ${file}`,
            details: { host: other.host, pid: other.pid, lockFile: file },
          },
        );
      }
      if (other && alive(other)) {
        throw new PgkeepError(
          'LOCKED',
          `another pgkeep agent (pid ${other.pid}, started ${other.startedAt}) already serves repository ${repository} on this host`,
          {
            hint: `stop it first (systemctl stop pgkeep-agent, or kill -TERM ${other.pid}); one agent per repository and host`,
            details: { pid: other.pid, lockFile: file },
          },
        );
      }
      // Dead holder: move its lock aside (atomic; of two agents doing this, one wins the link).
      try {
        renameSync(file, `${file}.stale`);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      replaced = other;
    }
  } finally {
    unlinkSync(tmp);
  }
  const held = () => readLock(file)?.pid === process.pid;
  if (!held()) {
    throw new PgkeepError('LOCKED', `another pgkeep agent took the lock ${file} at the same time`, {
      hint: 'one agent per repository and host',
    });
  }
  return {
    replaced,
    held,
    release() {
      if (held()) unlinkSync(file);
    },
  };
}

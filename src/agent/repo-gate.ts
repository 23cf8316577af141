/**
 * The agent's own jobs on its repository, kept out of each other's way: `repo gc` (the expire
 * job) takes the repository's exclusive lock and fails with LOCKED while any backup or dump holds
 * a shared one. So an exclusive job waits until the shared jobs in progress end, and shared jobs
 * asked for meanwhile wait behind it (no starving the gc), instead of failing at 04:00 every
 * Sunday because the weekly full backup is still running. Waits end when the agent stops.
 */
export type GateKind = 'shared' | 'exclusive';

interface Waiter {
  kind: GateKind;
  go: () => void;
}

export class RepoGate {
  private shared = 0;
  private exclusive = false;
  private readonly queue: Waiter[] = [];

  /** Resolves to the release function once the job may run; rejects with the signal's reason if it fires first. */
  acquire(kind: GateKind, signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        kind,
        go: () => {
          signal.removeEventListener('abort', onAbort);
          if (kind === 'exclusive') this.exclusive = true;
          else this.shared++;
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            if (kind === 'exclusive') this.exclusive = false;
            else this.shared--;
            this.drain();
          });
        },
      };
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal.reason);
        this.drain();
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.drain();
    });
  }

  /** Is a job of this kind going to wait? (for the "waiting" report) */
  wouldWait(kind: GateKind): boolean {
    return this.exclusive || this.queue.length > 0 || (kind === 'exclusive' && this.shared > 0);
  }

  private drain(): void {
    while (this.queue.length && !this.exclusive) {
      const next = this.queue[0]!;
      if (next.kind === 'exclusive' && this.shared > 0) return;
      this.queue.shift();
      next.go();
      if (next.kind === 'exclusive') return;
    }
  }
}

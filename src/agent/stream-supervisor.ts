/**
 * Keeps `pgkeep wal stream` running for one cluster: a child process whose JSON lines report
 * position and lag (recorded in the state file). When it exits, for whatever reason, it is
 * restarted after 1 s, 2 s, 4 s ... up to [agent] stream_backoff_max; the wait starts again at
 * 1 s once a receiver has run for HEALTHY_MS. stop() sends SIGTERM (the receiver stores its
 * .partial segment and exits) and kills it after the bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentLog } from './events.js';
import type { StreamPlan } from './plan.js';
import { emptyStream, type StateStore } from './state-store.js';
import { spawnPgkeep, type ChildHandle, type ChildOutcome } from './child.js';
import { streamArgs } from './job-commands.js';
import { settlesWithin } from './bounded-wait.js';

export const FIRST_BACKOFF_MS = 1_000;
/** A receiver that ran this long was healthy: the next failure waits FIRST_BACKOFF_MS again. */
export const HEALTHY_MS = 60_000;

export class StreamSupervisor {
  private child: ChildHandle | null = null;
  private stopped = false;
  private backoffMs = FIRST_BACKOFF_MS;
  private waiting: AbortController | null = null;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly plan: StreamPlan,
    private readonly deps: { state: StateStore; log: AgentLog; globalArgs: (cluster: string) => string[]; backoffMaxMs: number },
  ) {}

  start(): void {
    const prev = this.deps.state.cluster(this.plan.cluster).stream;
    this.deps.state.updateStream(this.plan.cluster, { ...emptyStream(), lastExit: prev?.lastExit ?? null });
    this.loop = this.run().catch((e: unknown) => {
      this.deps.state.updateStream(this.plan.cluster, { status: 'stopped', pid: null });
      this.deps.log({
        level: 'error',
        event: 'stream-failed',
        cluster: this.plan.cluster,
        message: `supervising wal stream of cluster ${this.plan.cluster} failed: ${(e as Error)?.message ?? String(e)}; restart the agent`,
      });
    });
  }

  private async run(): Promise<void> {
    const { state, log, globalArgs } = this.deps;
    const cluster = this.plan.cluster;
    while (!this.stopped) {
      const started = Date.now();
      this.child = spawnPgkeep([...globalArgs(cluster), ...streamArgs(this.plan.slot)], (line) => this.onLine(line));
      state.updateStream(cluster, { status: 'running', pid: this.child.pid, startedAt: new Date(started).toISOString(), restartAt: null });
      log({
        level: 'info',
        event: 'stream-started',
        cluster,
        pid: this.child.pid,
        message: `wal stream of cluster ${cluster} started (pid ${this.child.pid})`,
      });
      const end = await this.child.done;
      this.child = null;
      const lastExit = exitRecord(end);
      if (this.stopped) {
        state.updateStream(cluster, { status: 'stopped', pid: null, lastExit });
        log({
          level: 'info',
          event: 'stream-stopped',
          cluster,
          exitCode: end.exitCode,
          message: `wal stream of cluster ${cluster} stopped: ${end.message}`,
        });
        return;
      }
      if (Date.now() - started >= HEALTHY_MS) this.backoffMs = FIRST_BACKOFF_MS;
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.deps.backoffMaxMs);
      const restarts = (state.cluster(cluster).stream?.restarts ?? 0) + 1;
      state.updateStream(cluster, {
        status: 'waiting',
        pid: null,
        lastExit,
        restarts,
        restartAt: new Date(Date.now() + delay).toISOString(),
      });
      log({
        level: 'error',
        event: 'stream-exited',
        cluster,
        exitCode: end.exitCode,
        signal: end.signal,
        errorCode: end.errorCode,
        retryInMs: delay,
        message: `wal stream of cluster ${cluster} ended (${end.signal ?? `exit ${end.exitCode}`}: ${end.message}); restarting in ${delay / 1000} s`,
      });
      this.waiting = new AbortController();
      await sleep(delay, undefined, { signal: this.waiting.signal }).catch(() => undefined);
      this.waiting = null;
    }
    state.updateStream(cluster, { status: 'stopped', pid: null, restartAt: null });
  }

  private onLine(line: string): void {
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (e.type !== 'progress') return;
    const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
    this.deps.state.updateStream(this.plan.cluster, {
      receivedLsn: text(e.receivedLsn),
      flushedLsn: text(e.flushedLsn),
      serverLsn: text(e.serverLsn),
      lagBytes: e.lagBytes === null || e.lagBytes === undefined ? null : Number(e.lagBytes),
      lastProgressAt: new Date().toISOString(),
    });
  }

  /** SIGTERM to the receiver; SIGKILL if it has not ended within `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    this.waiting?.abort();
    const child = this.child;
    child?.terminate();
    const ended = await settlesWithin(this.loop, timeoutMs);
    if (!ended && child) {
      this.deps.log({
        level: 'error',
        event: 'stream-killed',
        cluster: this.plan.cluster,
        message: `wal stream of cluster ${this.plan.cluster} did not stop within ${timeoutMs / 1000} s: killed (its last .partial upload may be missing; the slot keeps that WAL on the server)`,
      });
      child.kill();
      await this.loop;
    }
  }
}

function exitRecord(end: ChildOutcome): NonNullable<ReturnType<StateStore['cluster']>['stream']>['lastExit'] {
  return {
    at: new Date().toISOString(),
    exitCode: end.exitCode,
    signal: end.signal,
    ...(end.errorCode ? { errorCode: end.errorCode } : {}),
    message: end.message,
  };
}

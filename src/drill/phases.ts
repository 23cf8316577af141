/**
 * The drill's clock: phases follow each other without a gap — each starts when the one before
 * ended — so their seconds add up to the wall time from the drill's start to the end of the last
 * phase run, which is the RTO. The first failure ends the drill: its phase is recorded as failed
 * with the reason, the phases after it are not run.
 *
 * A phase is raced against the drill's signal (SIGINT, --max-duration): when it fires, the phase
 * fails at once and the caller kills the sandbox, which ends whatever the phase was waiting for.
 */
import { PgkeepError, toPgkeepError } from '../errors.js';
import type { DrillPhase, DrillPhaseRecord } from '../holdings/drill-records.js';
import type { DrillEvent } from './types.js';

export class DrillFailure extends Error {
  constructor(
    readonly phase: DrillPhase,
    readonly error: PgkeepError,
  ) {
    super(error.message);
  }
}

export class PhaseClock {
  readonly phases: DrillPhaseRecord[] = [];
  private mark: number;
  /** The phase's own promise: after an abort it may still be running (a server starting). */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(
    readonly startedAt: number,
    private readonly signal: AbortSignal,
    private readonly abortReason: () => PgkeepError,
    private readonly emit: (e: DrillEvent) => void,
  ) {
    this.mark = startedAt;
  }

  /** Seconds from the drill's start to the end of the last phase run. */
  get rtoSeconds(): number {
    return this.phases.reduce((s, p) => s + p.seconds, 0);
  }

  get endedAt(): number {
    return this.mark;
  }

  async run<T>(name: DrillPhase, fn: () => Promise<T>, detail?: (r: T) => string | undefined): Promise<T> {
    this.emit({ phase: name, state: 'start' });
    try {
      this.signal.throwIfAborted();
      const p = fn();
      this.pending = p.catch(() => undefined);
      const r = await raced(p, this.signal);
      this.close(name, true, detail?.(r));
      return r;
    } catch (e) {
      const err = this.signal.aborted ? this.abortReason() : toPgkeepError(e);
      this.close(name, false, err.message);
      throw new DrillFailure(name, err);
    }
  }

  /** Wait (at most `ms`) for an aborted phase's work to end, so nothing is cleaned up under it. */
  async settled(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.pending, new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  /** A phase that failed without running (the plan already knows it cannot succeed). */
  fail(name: DrillPhase, err: PgkeepError): never {
    this.emit({ phase: name, state: 'start' });
    this.close(name, false, err.message);
    throw new DrillFailure(name, err);
  }

  private close(name: DrillPhase, ok: boolean, detail: string | undefined): void {
    const now = Date.now();
    const seconds = (now - this.mark) / 1000;
    this.mark = now;
    this.phases.push({ name, seconds, ok, ...(detail ? { detail } : {}) });
    this.emit({ phase: name, state: ok ? 'done' : 'failed', seconds, ...(detail ? { detail } : {}) });
  }
}

function raced<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  p.catch(() => undefined); // a phase that fails after the abort is reported as the abort
  return Promise.race([p, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

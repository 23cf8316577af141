/**
 * SIGINT and SIGTERM end every command promptly. The first signal aborts the command's
 * AbortSignal (storage requests, database sessions, copies and waits watch it) and the command
 * unwinds: it releases its locks, abandons what it was writing (nothing is published) and
 * reports INTERRUPTED. Should it not have ended within GRACE_MS — an await nothing can cancel —,
 * or on a second signal, the process exits at once with the same report; what it left behind
 * is temporary (removed by `repo gc`) or a lock that others see as stale.
 */
import { PgkeepError } from '../errors.js';

/** How long an interrupted command may take to clean up before the process exits anyway. */
export const GRACE_MS = 5_000;
/**
 * `wal stream` stops by storing its .partial segment (one storage request, bounded by
 * s3_timeout) and sending a final status: it gets longer (systemd's default stop timeout).
 */
export const WAL_STREAM_GRACE_MS = 90_000;
/**
 * `pgkeep agent` stops its jobs and its `wal stream` children itself, within [agent] stop_timeout
 * (at most 10 min, then it kills them): this bound only catches an agent that hangs.
 */
export const AGENT_GRACE_MS = 11 * 60_000;
/**
 * `pgkeep drill` stops its sandbox server (waiting for one still starting, then its pid file) and
 * stores the interrupted drill's record before it exits.
 */
export const DRILL_GRACE_MS = 60_000;

export class Interrupts {
  readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;

  /** `exit` reports the error and ends the process (called when the grace period runs out). */
  constructor(
    private readonly exit: (err: PgkeepError) => void,
    private readonly graceMs = GRACE_MS,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The INTERRUPTED error once a signal arrived. */
  get reason(): PgkeepError | undefined {
    return this.signal.aborted ? (this.signal.reason as PgkeepError) : undefined;
  }

  install(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** Stop listening; the process then exits by itself within the grace period if something still holds it. */
  uninstall(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.timer) {
      clearTimeout(this.timer);
      const reason = this.reason;
      if (reason) setTimeout(() => process.exit(reason.exitCode), this.graceMs).unref();
    }
  }

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    const first = this.reason;
    if (first) {
      this.exit(withNote(first, `a second signal (${sig}) arrived: stopped without finishing the cleanup`));
      return;
    }
    this.controller.abort(
      new PgkeepError('INTERRUPTED', `interrupted by ${sig}`, {
        hint: 'nothing half-done is visible in the repository; run the command again',
        details: { signal: sig },
      }),
    );
    this.timer = setTimeout(() => {
      this.exit(withNote(this.reason!, `cleanup did not finish within ${this.graceMs / 1000} s; stopped anyway`));
    }, this.graceMs);
  };
}

function withNote(err: PgkeepError, note: string): PgkeepError {
  return new PgkeepError(err.code, `${err.message} (${note})`, {
    hint: 'temporary files are removed by "pgkeep repo gc"; a lock left behind is reported as stale and can be removed with "pgkeep repo unlock"',
    details: err.details,
  });
}

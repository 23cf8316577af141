/**
 * The timeline history files recovery asks for while it replays timeline T, watched by the
 * prefetcher so that the sh front can answer "not in the archive" for them (absent.ts):
 * `T.history` (read at the start for T > 1; asked again at the end of recovery as the new
 * timeline's parent) and the newer ones PostgreSQL probes for (recovery_target_timeline =
 * latest at the start, the choice of a new timeline at the end): T+1, T+2, ... up to the first
 * the archive lacks. Those the archive lacks are checked again every RECHECK_MS; one found stops
 * being watched (a get through node serves it) and the next newer one is probed.
 */
import { historyFileName } from '../pg/wal-name.js';
import { RECHECK_MS } from './absent.js';

/** `check(name)`: is it in the archive? (recording the answer for the front) */
export type HistoryCheck = (name: string) => Promise<boolean>;

export class HistoryWatch {
  private timeline: number | undefined;
  /** Whether T.history was found (then it is not watched). */
  private ownFound = false;
  /** Newest timeline whose history file was found in the chain after T (T when none). */
  private newest = 0;
  private due = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly check: HistoryCheck,
    private readonly recheckMs = RECHECK_MS,
  ) {}

  /** Recovery is on timeline `t` (a new one starts the watch over). */
  follow(t: number): void {
    if (t === this.timeline) return;
    this.timeline = t;
    this.ownFound = false;
    this.newest = t;
    this.due = 0;
  }

  /** The names answered "absent" now (for tests and logs). */
  watched(): string[] {
    if (this.timeline === undefined) return [];
    return [...(this.ownFound ? [] : [historyFileName(this.timeline)]), historyFileName(this.newest + 1)];
  }

  /**
   * Check the watched names when due; at most one round at a time (the returned promise ends it).
   * A failed check (repository unreachable) leaves no "absent" answer behind; it is tried again.
   */
  tick(now = Date.now()): Promise<void> | undefined {
    if (this.timeline === undefined || this.running || now < this.due) return undefined;
    const t = this.timeline;
    this.running = this.round(t)
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        this.due = Date.now() + this.recheckMs;
      });
    return this.running;
  }

  /** Ends when no round is under way. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async round(t: number): Promise<void> {
    if (!this.ownFound) {
      const found = await this.check(historyFileName(t));
      if (this.timeline !== t) return;
      this.ownFound = found;
    }
    while (this.timeline === t && (await this.check(historyFileName(this.newest + 1)))) {
      if (this.timeline === t) this.newest++;
    }
  }
}

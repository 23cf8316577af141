/**
 * When the segment being received is uploaded as `.partial`: every `intervalMs` (default 10 s)
 * or every `bytes` received (default 4 MiB) since the last upload, whichever comes first, and
 * only when something new arrived. With --synchronous the receiver uploads as soon as the
 * stream goes idle instead (each upload then also moves the reported flush position). Pure.
 */
import type { Lsn } from '../../pg/lsn.js';

export interface PartialPolicy {
  intervalMs: number;
  bytes: number;
}

export const DEFAULT_PARTIAL_POLICY: PartialPolicy = { intervalMs: 10_000, bytes: 4 * 1024 * 1024 };

export class PartialSchedule {
  private lastAt: number;
  /** Position covered by the last upload (or segment start when none). */
  private uploadedTo: Lsn = 0n;

  constructor(
    private readonly policy: PartialPolicy,
    now: number,
  ) {
    this.lastAt = now;
  }

  /** A new segment began at `start`: nothing of it is uploaded yet. */
  reset(start: Lsn, now: number): void {
    this.uploadedTo = start;
    this.lastAt = now;
  }

  /** `position` (what is held) was uploaded at `now`. */
  uploaded(position: Lsn, now: number): void {
    this.uploadedTo = position;
    this.lastAt = now;
  }

  /** Position the last .partial upload covers. */
  get uploadedPosition(): Lsn {
    return this.uploadedTo;
  }

  pending(position: Lsn): boolean {
    return position > this.uploadedTo;
  }

  due(position: Lsn, now: number): boolean {
    if (!this.pending(position)) return false;
    return now - this.lastAt >= this.policy.intervalMs || position - this.uploadedTo >= BigInt(this.policy.bytes);
  }

  /** Milliseconds until an upload is due by time (Infinity when nothing is pending). */
  msUntilDue(position: Lsn, now: number): number {
    if (!this.pending(position)) return Infinity;
    return Math.max(0, this.lastAt + this.policy.intervalMs - now);
  }
}

/**
 * A progress bar on stderr for long operations (backup, restore, verify): bytes done / total,
 * rate and ETA, redrawn at most a few times a second. It draws nothing when stderr is not a
 * terminal or with --json (ctx.interactive is false then), so use cases can report progress
 * unconditionally.
 *
 *   const bar = progressBar(ctx, { label: 'backup' });
 *   try { await work({ onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal, p.phase) }); }
 *   finally { bar.done(); }
 */
import type { CommandContext } from './context.js';
import { formatBytes } from './output.js';

export interface ProgressBar {
  /** Report progress: `done` of `total` (total unknown: no bar, no ETA). `note` replaces the label's suffix. */
  update(done: number, total?: number, note?: string): void;
  /** Erase the bar (call once, in a finally). */
  done(): void;
}

export interface ProgressBarOptions {
  /** Draw at all (default: ctx.interactive). */
  enabled?: boolean;
  /** Text before the bar, e.g. "backup". */
  label?: string;
  /** 'bytes' (default) or 'count' (files, segments...). */
  unit?: 'bytes' | 'count';
  /** Minimum time between redraws (default 200 ms). */
  intervalMs?: number;
  /** Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Clock (tests). */
  now?: () => number;
}

export interface ProgressSnapshot {
  done: number;
  total?: number;
  /** Bytes (or items) per second, undefined until measurable. */
  rate?: number;
  /** Seconds left, when total and rate are known. */
  etaSeconds?: number;
  elapsedSeconds: number;
}

/** Keeps a rate over a sliding window (about 5 s) so the ETA follows the current pace. */
export class RateMeter {
  private samples: { t: number; v: number }[] = [];
  constructor(private readonly windowMs = 5000) {}

  add(t: number, value: number): void {
    this.samples.push({ t, v: value });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
  }

  /** Units per second over the window, undefined with less than 0.5 s of samples. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 500) return undefined;
    return ((last.v - first.v) * 1000) / (last.t - first.t);
  }
}

/** Format seconds as "42s", "3m05s", "1h02m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line of progress text for a terminal `width` columns wide (pure: easy to test). */
export function renderProgressLine(
  p: ProgressSnapshot,
  opts: { label?: string; note?: string; unit?: 'bytes' | 'count'; width?: number } = {},
): string {
  const width = Math.max(40, opts.width ?? 80);
  const fmt = (n: number): string => (opts.unit === 'count' ? String(Math.round(n)) : formatBytes(Math.round(n)));
  const head = [opts.label, opts.note].filter(Boolean).join(' ');
  const amount = p.total !== undefined && p.total > 0 ? `${fmt(p.done)}/${fmt(p.total)}` : fmt(p.done);
  const rate = p.rate !== undefined ? `${fmt(p.rate)}/s` : '';
  const eta = p.etaSeconds !== undefined ? `ETA ${formatDuration(p.etaSeconds)}` : formatDuration(p.elapsedSeconds);
  const tail = [amount, rate, eta].filter(Boolean).join('  ');
  let line = head ? `${head}  ` : '';
  if (p.total !== undefined && p.total > 0) {
    const frac = Math.min(1, Math.max(0, p.done / p.total));
    const pct = `${String(Math.floor(frac * 100)).padStart(3)}%`;
    const barWidth = Math.min(30, width - line.length - tail.length - pct.length - 6);
    if (barWidth >= 5) {
      const filled = Math.round(frac * barWidth);
      line += `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] `;
    }
    line += `${pct}  `;
  }
  line += tail;
  return line.length > width - 1 ? line.slice(0, width - 1) : line;
}

/** A progress bar for a command: drawn only when interactive (a TTY and not --json). */
export function progressBar(ctx: Pick<CommandContext, 'interactive'>, opts: ProgressBarOptions = {}): ProgressBar {
  return createProgressBar({ enabled: ctx.interactive, ...opts });
}

export function createProgressBar(opts: ProgressBarOptions = {}): ProgressBar {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? Boolean(stream.isTTY);
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? 200;
  const started = now();
  const meter = new RateMeter();
  let lastDraw = 0;
  let shown = false;
  let finished = false;
  return {
    update(done, total, note) {
      if (!enabled || finished) return;
      const t = now();
      meter.add(t, done);
      if (t - lastDraw < interval) return;
      lastDraw = t;
      const rate = meter.rate();
      const etaSeconds = total !== undefined && rate !== undefined && rate > 0 && total >= done ? (total - done) / rate : undefined;
      const text = renderProgressLine(
        { done, total, rate, etaSeconds, elapsedSeconds: (t - started) / 1000 },
        { label: opts.label, note, unit: opts.unit, width: stream.columns ?? 80 },
      );
      stream.write(`\r\x1b[K${text}`);
      shown = true;
    },
    done() {
      if (finished) return;
      finished = true;
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

/** A time axis shared by the plots: scale from milliseconds to x, and tick labels at round steps. */
import { esc } from './html.js';

export interface TimeScale {
  x(ms: number): number;
  left: number;
  right: number;
}

export function timeScale(fromMs: number, toMs: number, left: number, right: number): TimeScale {
  const span = Math.max(1, toMs - fromMs);
  return { left, right, x: (ms) => Math.round((left + ((ms - fromMs) / span) * (right - left)) * 10) / 10 };
}

const STEPS = [60_000, 300_000, 900_000, 3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000];

/** Up to about six ticks with labels, a vertical grid line each, at y from top to bottom. */
export function timeTicks(fromMs: number, toMs: number, s: TimeScale, top: number, bottom: number): string {
  const span = toMs - fromMs;
  const step = STEPS.find((st) => span / st <= 6) ?? STEPS[STEPS.length - 1]!;
  const out: string[] = [];
  for (let t = Math.ceil(fromMs / step) * step; t <= toMs; t += step) {
    const x = s.x(t);
    const iso = new Date(t).toISOString();
    const label =
      step >= 86_400_000 ? iso.slice(5, 10) : span > 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
    out.push(
      `<line class="grid" x1="${x}" x2="${x}" y1="${top}" y2="${bottom}"/><text class="tick" x="${x}" y="${bottom + 14}" text-anchor="middle">${esc(label)}</text>`,
    );
  }
  return out.join('');
}

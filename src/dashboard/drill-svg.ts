/**
 * The drill history as an inline SVG: one bar per drill at its time, its height the RTO (red
 * when the drill failed), and the RPO as a dot on the same seconds scale.
 */
import type { DrillRecord } from '../holdings/index.js';
import { esc, seconds, when } from './html.js';
import { timeScale, timeTicks } from './svg-axis.js';

const W = 1000;
const LEFT = 90;
const RIGHT = W - 20;
const TOP = 12;
const BOTTOM = 120;

export function drillSvg(records: DrillRecord[]): string {
  if (!records.length) return '';
  const times = records.map((r) => Date.parse(r.startedAt));
  const pad = Math.max(3_600_000, (Math.max(...times) - Math.min(...times)) * 0.05);
  const fromMs = Math.min(...times) - pad;
  const toMs = Math.max(...times) + pad;
  const s = timeScale(fromMs, toMs, LEFT, RIGHT);
  const top = Math.max(1, ...records.map((r) => Math.max(r.rtoSeconds, r.rpoSeconds ?? 0)));
  const y = (v: number) => Math.round((BOTTOM - (v / top) * (BOTTOM - TOP)) * 10) / 10;
  const bars = records.map((r, i) => {
    const x = s.x(times[i]!);
    const text = `${when(r.startedAt)}: ${r.ok ? 'passed' : `failed in ${r.failedPhase ?? 'an unknown phase'}`}; RTO ${seconds(r.rtoSeconds)}, RPO ${seconds(r.rpoSeconds)}`;
    const rpo =
      r.rpoSeconds === undefined
        ? ''
        : `<circle class="rpo" cx="${x}" cy="${y(r.rpoSeconds)}" r="4"><title>RPO ${esc(seconds(r.rpoSeconds))}</title></circle>`;
    return `<g data-tip="${esc(text)}"><title>${esc(text)}</title><rect class="${r.ok ? 'rto' : 'rto bad'}" x="${x - 5}" y="${y(r.rtoSeconds)}" width="10" height="${Math.max(1, BOTTOM - y(r.rtoSeconds))}"/>${rpo}</g>`;
  });
  const scale = `<text class="tick" x="${LEFT - 8}" y="${TOP + 4}" text-anchor="end">${esc(seconds(top))}</text><text class="tick" x="${LEFT - 8}" y="${BOTTOM}" text-anchor="end">0</text>`;
  const axis = `<line class="axis" x1="${LEFT}" x2="${RIGHT}" y1="${BOTTOM}" y2="${BOTTOM}"/>${timeTicks(fromMs, toMs, s, TOP, BOTTOM)}`;
  return `<svg class="drills" viewBox="0 0 ${W} ${BOTTOM + 22}" role="img" aria-label="drill RTO and RPO over time">${axis}${scale}${bars.join('')}</svg>`;
}

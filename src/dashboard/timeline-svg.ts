/**
 * The recoverable window as an inline SVG: physical backups as marks (their start to stop), the
 * archived WAL as a green band per run of segments, each gap as a red band naming its segments,
 * the window from the oldest to the newest recoverable moment shaded, and "now" at the right
 * edge (what lies between the newest recoverable moment and now would be lost today).
 */
import { esc, when } from './html.js';
import { timeScale, timeTicks } from './svg-axis.js';
import type { TimelineModel } from './types.js';

const W = 1000;
const LEFT = 90;
const RIGHT = W - 20;
const MIN_WIDTH = 4;

/** A rectangle at least MIN_WIDTH wide, centred on a too-short span. */
function span(x1: number, x2: number): { x: number; w: number } {
  const w = Math.max(MIN_WIDTH, x2 - x1);
  return { x: Math.round(((x1 + x2) / 2 - w / 2) * 10) / 10, w: Math.round(w * 10) / 10 };
}

const tip = (text: string) => `data-tip="${esc(text)}"><title>${esc(text)}</title>`;

export function timelineSvg(m: TimelineModel): string {
  const s = timeScale(m.fromMs, m.toMs, LEFT, RIGHT);
  const parts: string[] = [];
  if (m.oldest && m.newest) {
    const r = span(s.x(m.oldest.ms), s.x(m.newest.ms));
    parts.push(
      `<rect class="window" x="${r.x}" y="14" width="${r.w}" height="76" ${tip(`recoverable from ${when(m.oldest.ms)} to ${m.newest.bound ? 'about ' : ''}${when(m.newest.ms)}`)}</rect>`,
    );
  }
  parts.push(`<text class="row" x="${LEFT - 8}" y="38" text-anchor="end">backups</text>`);
  parts.push(`<text class="row" x="${LEFT - 8}" y="73" text-anchor="end">WAL</text>`);
  for (const b of m.backups) {
    const r = span(s.x(b.startMs), s.x(b.stopMs));
    const cls = b.walStatus === 'ok' || b.walStatus === 'self-contained' ? 'backup' : 'backup bad';
    parts.push(
      `<rect class="${cls}" x="${r.x}" y="22" width="${r.w}" height="24" ${tip(`backup ${b.id} (${b.method}): ${when(b.startMs)} to ${when(b.stopMs)}; WAL ${b.walStatus}`)}</rect>`,
    );
  }
  for (const b of m.bands) {
    const r = span(s.x(b.fromMs), s.x(b.toMs));
    parts.push(
      `<rect class="wal" x="${r.x}" y="60" width="${r.w}" height="20" ${tip(`timeline ${b.timeline}: ${b.segments} segment(s) ${b.first} to ${b.last}, archived ${when(b.fromMs)} to ${when(b.toMs)}`)}</rect>`,
    );
  }
  for (const g of m.gaps) {
    const r = span(s.x(g.fromMs), s.x(g.toMs));
    const what = g.count === 1 ? g.from : `${g.from} to ${g.to} (${g.count})`;
    parts.push(`<rect class="gap" x="${r.x}" y="56" width="${r.w}" height="28" ${tip(`gap: missing ${what}`)}</rect>`);
  }
  if (m.oldest) parts.push(edge(s.x(m.oldest.ms), 'oldest', `oldest recoverable moment ${when(m.oldest.ms)} (end of ${m.oldest.backup})`));
  if (m.newest) {
    parts.push(
      edge(
        s.x(m.newest.ms),
        'newest',
        `newest recoverable moment ${m.newest.bound ? 'at most ' : ''}${when(m.newest.ms)} (LSN ${m.newest.lsn}, ${m.newest.segment})`,
      ),
    );
  }
  const nowX = s.x(m.nowMs);
  parts.push(
    `<line class="now" x1="${nowX}" x2="${nowX}" y1="10" y2="92"/><text class="tick" x="${nowX}" y="9" text-anchor="end">now</text>`,
  );
  const axis = `<line class="axis" x1="${LEFT}" x2="${RIGHT}" y1="92" y2="92"/>${timeTicks(m.fromMs, m.toMs, s, 10, 92)}`;
  return `<svg class="timeline" viewBox="0 0 ${W} 115" role="img" aria-label="recoverable window">${axis}${parts.join('')}</svg>`;
}

function edge(x: number, label: string, text: string): string {
  return `<g class="edge" ${tip(text)}<line x1="${x}" x2="${x}" y1="14" y2="90"/><text x="${x + 3}" y="88">${esc(label)}</text></g>`;
}

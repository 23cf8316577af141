/** Small helpers of the page's HTML: escaping (every value from outside goes through esc) and formats. */
import { humanBytes } from '../words.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/** "2026-12-05 09:14:03Z" (UTC, seconds). */
export function when(iso: string | number | undefined | null): string {
  if (iso === undefined || iso === null || iso === '') return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export const bytes = (n: number | undefined | null): string => (n === undefined || n === null ? '—' : humanBytes(n));

/** "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function seconds(s: number | undefined | null): string {
  if (s === undefined || s === null) return '—';
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}

/** A state word as a coloured badge (OK, WARN, CRITICAL, UNKNOWN, ok, failed...). */
export function badge(state: string): string {
  const cls = /^(ok|self-contained)$/i.test(state)
    ? 'ok'
    : /^warn/i.test(state)
      ? 'warn'
      : /^unknown|running$/i.test(state)
        ? 'unknown'
        : 'bad';
  return `<span class="badge ${cls}">${esc(state)}</span>`;
}

/** A table with a header row; cells are HTML already. */
export function table(head: string[], rows: string[][], cls = ''): string {
  if (!rows.length) return '';
  const th = head.map((h) => `<th>${esc(h)}</th>`).join('');
  const tr = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table class="${cls}"><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

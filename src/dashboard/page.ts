/**
 * The whole page: plain HTML with its style, the panels of the repository and of each cluster,
 * and one small script (a tooltip for the plots' marks, and a refresh of the page's content every
 * `refreshSeconds` without reloading it). No external resource is loaded.
 */
import { esc, when } from './html.js';
import { clusterPanels, repositoryPanel } from './panels.js';
import type { DashboardData } from './types.js';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2530;background:#f4f6f8}
header{background:#1d2530;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:baseline}
header h1{font-size:18px;margin:0}main{padding:10px 20px}
.cluster{margin-bottom:24px}h2{margin:16px 0 8px}
.panel{background:#fff;border:1px solid #d8dde3;border-radius:6px;padding:10px 14px;margin:10px 0}
.panel h3{margin:0 0 6px;font-size:15px}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px 3px 0;text-align:left;vertical-align:top}
th{font-weight:600;border-bottom:1px solid #d8dde3}code{font-size:12px}
.badge{padding:1px 7px;border-radius:9px;font-size:12px;font-weight:600;color:#fff}
.badge.ok{background:#2e8540}.badge.warn{background:#d98b00}.badge.bad{background:#c62828}.badge.unknown{background:#6b7785}
.note{color:#4a5563;margin:4px 0}.error{color:#c62828;margin:4px 0}
svg{width:100%;max-width:1000px;display:block}
svg .grid{stroke:#e6e9ed}svg .axis{stroke:#6b7785}svg .tick,svg .row,svg .edge text{font-size:11px;fill:#4a5563}
svg .window{fill:#1565c0;opacity:.12}svg .backup{fill:#1565c0}svg .backup.bad{fill:#c62828}
svg .wal{fill:#2e8540}svg .gap{fill:#c62828}svg .now{stroke:#1d2530;stroke-dasharray:3 3}
svg .edge line{stroke:#1565c0;stroke-width:2}svg .rto{fill:#1565c0}svg .rto.bad{fill:#c62828}svg .rpo{fill:#d98b00}
#tip{position:fixed;pointer-events:none;background:#1d2530;color:#fff;padding:4px 8px;border-radius:4px;font-size:12px;display:none;max-width:480px}
`;

/** Tooltips from data-tip; every `refresh` seconds the content of <main> is fetched again (kept when the fetch fails). */
const SCRIPT = `
const tip = document.getElementById('tip');
document.addEventListener('mousemove', (e) => {
  const t = e.target instanceof Element ? e.target.closest('[data-tip]') : null;
  if (!t) { tip.style.display = 'none'; return; }
  tip.textContent = t.getAttribute('data-tip');
  tip.style.display = 'block';
  tip.style.left = (e.clientX + 12) + 'px';
  tip.style.top = (e.clientY + 12) + 'px';
});
const every = Number(document.body.dataset.refresh) * 1000;
if (every > 0) setInterval(async () => {
  try {
    const r = await fetch(location.pathname, { credentials: 'same-origin', cache: 'no-store' });
    if (!r.ok) throw new Error('HTTP ' + r.status);
    const doc = new DOMParser().parseFromString(await r.text(), 'text/html');
    document.querySelector('main').replaceWith(doc.querySelector('main'));
    document.getElementById('stale').textContent = '';
  } catch (e) {
    document.getElementById('stale').textContent = 'refresh failed (' + e.message + '): showing the last page';
  }
}, every);
`;

export function renderPage(d: DashboardData, o: { nonce: string; refreshSeconds: number }): string {
  const clusters = d.clusters.length ? d.clusters.map(clusterPanels).join('\n') : '<p class="note">no cluster configured</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>pgkeep dashboard</title><style>${STYLE}</style></head>
<body data-refresh="${o.refreshSeconds}">
<header><h1>pgkeep</h1><span>read-only dashboard</span><span id="stale" class="error"></span></header>
<main>
<p class="note">gathered <time data-field="generated">${esc(when(d.generatedAt))}</time> · all times UTC</p>
${repositoryPanel(d.repository)}
${clusters}
</main>
<div id="tip"></div>
<script nonce="${esc(o.nonce)}">${SCRIPT}</script>
</body></html>
`;
}

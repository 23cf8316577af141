/** The panels of one cluster, as HTML sections (each value escaped; plots from the SVG renderers). */
import type { ClusterView, DashboardData } from './types.js';
import { badge, bytes, esc, seconds, table, when } from './html.js';
import { timelineSvg } from './timeline-svg.js';
import { drillSvg } from './drill-svg.js';

const section = (name: string, title: string, body: string) =>
  `<section class="panel" data-panel="${name}"><h3>${esc(title)}</h3>\n${body}\n</section>`;
const note = (text: string, cls = 'note') => `<p class="${cls}">${esc(text)}</p>`;

/** Rows shown per table: the newest first; older ones are counted, naming the command that lists them all. */
const ROWS = 50;
function newestFirst<T>(items: T[], command: string): { rows: T[]; more: string } {
  const rows = items.slice(-ROWS).reverse();
  return { rows, more: items.length > ROWS ? note(`${items.length - ROWS} older not shown (${command})`) : '' };
}

export function repositoryPanel(r: DashboardData['repository']): string {
  if (!r.info) return section('repository', 'Repository', note(`${r.location}: ${r.error ?? 'not read'}`, 'error'));
  const i = r.info;
  const rows: [string, string][] = [
    ['location', esc(i.location)],
    ['stored', `<span data-field="stored">${esc(bytes(i.storedBytes))}</span> in ${i.packs} pack(s) and ${i.objects} other object(s)`],
    ['backed up (logical)', esc(bytes(i.logicalBytes))],
    ['deduplication and compression', `<span data-field="ratio">${i.ratio.toFixed(2)}×</span> (logical ÷ stored)`],
    ['snapshots', `${i.snapshots} in ${i.clusters.length} cluster(s)`],
    ['compression, encryption', `${esc(i.compression)}, ${esc(i.encryption)}`],
    ['left by interrupted writers', i.tempFiles.count ? `${i.tempFiles.count} file(s), ${esc(bytes(i.tempFiles.bytes))}` : 'none'],
  ];
  return section(
    'repository',
    'Repository',
    table(
      ['', ''],
      rows.map(([k, v]) => [esc(k), v]),
      'facts',
    ),
  );
}

function windowPanel(v: ClusterView): string {
  const t = v.timeline;
  const physical = v.backups.filter((b) => b.kind === 'physical');
  const summary = [
    `<span data-field="physical-count">${physical.length}</span> physical backup(s)`,
    `oldest recoverable moment <span data-field="oldest">${esc(t.oldest ? when(t.oldest.ms) : 'none')}</span>`,
    `newest <span data-field="newest">${esc(t.newest ? `${t.newest.bound ? 'at most ' : ''}${when(t.newest.ms)}` : 'none')}</span>${t.newest ? ` (LSN ${esc(t.newest.lsn)})` : ''}`,
  ].join(' · ');
  // What a crash now would lose: what changed after the newest recoverable moment (its time is an upper bound).
  const exposure = t.newest
    ? `<p>the newest recoverable moment is at least <span data-field="exposure">${esc(seconds(Math.max(0, (t.nowMs - t.newest.ms) / 1000)))}</span> ago: a crash now loses what changed since</p>`
    : v.repoError
      ? '' // unknown, not nothing: the repository's error is shown instead
      : '<p class="error">nothing is recoverable: a crash now would lose everything</p>';
  const gaps = t.gaps.length
    ? `<p class="error">${t.gaps.length} gap(s) in the archive: recovery cannot replay past the first missing segment.</p>` +
      table(
        ['timeline', 'missing from', 'to', 'segments', 'between'],
        t.gaps.map((g) => [
          String(g.timeline),
          `<code class="gap-segment">${esc(g.from)}</code>`,
          `<code>${esc(g.to)}</code>`,
          String(g.count),
          `${esc(when(g.fromMs))} and ${esc(when(g.toMs))}`,
        ]),
        'gaps',
      )
    : note('no gap in the archived WAL');
  const problems = [
    ...(v.walCheck?.problems ?? []),
    ...(v.walCheck?.damagedManifests ?? []).map((d) => `damaged manifest ${d.id}: ${d.message}`),
  ];
  const err = v.repoError ? note(`repository: ${v.repoError}`, 'error') : '';
  return section(
    'window',
    'Recoverable window',
    `<p>${summary}</p>${exposure}${err}${timelineSvg(t)}${gaps}${problems.map((p) => note(p, 'error')).join('')}`,
  );
}

function healthPanel(v: ClusterView): string {
  const s = v.status;
  const checks = table(
    ['check', 'state', 'what was found', 'what to do'],
    s.checks.map((c) => [esc(c.check), badge(c.state), esc(c.reason), esc(c.fix ?? '')]),
    'checks',
  );
  const a = s.archive;
  const lag = a
    ? note(
        `archive: last archived ${a.lastArchivedWal ?? 'none'} at ${when(a.lastArchivedTime)}; ${a.segments ?? '?'} segment(s) waiting; ` +
          `${a.failedCount} failure(s)${a.lastFailedWal ? `, last ${a.lastFailedWal} at ${when(a.lastFailedTime)}` : ''}`,
      )
    : '';
  const streams = Object.entries(s.streams).map(([name, st]) =>
    note(
      `stream ${name}: ${st.state ?? 'unknown'}; lag ${bytes(st.lagBytes)}${st.lagSeconds !== undefined ? `, ${seconds(st.lagSeconds)}` : ''}`,
    ),
  );
  return section('health', 'Archive and stream health', `${lag}${streams.join('')}${checks}`);
}

function schedulePanel(v: ClusterView): string {
  if (v.scheduleError) return section('schedule', 'Schedule', note(v.scheduleError, 'error'));
  if (!v.schedule.length) return section('schedule', 'Schedule', note('nothing scheduled: no [cluster.NAME.schedule] and no agent state'));
  const source = v.schedule[0]!.source === 'agent' ? "from the agent's state" : 'planned by the configuration (no agent state found)';
  const rows = v.schedule.map((r) => [
    esc(r.job),
    `<code>${esc(r.schedule ?? '')}</code>`,
    esc(when(r.nextRun)),
    esc(when(r.lastRun)),
    r.result ? badge(r.result) : '—',
    esc(r.error ?? ''),
  ]);
  return section('schedule', 'Schedule', note(source) + table(['job', 'schedule', 'next run', 'last run', 'result', 'error'], rows));
}

function backupsPanel(v: ClusterView): string {
  const shown = newestFirst(
    v.backups.filter((b) => b.kind === 'physical'),
    'pgkeep list',
  );
  const rows = shown.rows.map((b) => {
    const w = v.walCheck?.backups.find((x) => x.id === b.id);
    return [
      `<code>${esc(b.id)}</code>`,
      esc(b.method),
      esc(when(b.startTime)),
      esc(when(b.stopTime)),
      esc(bytes(b.size)),
      esc(bytes(b.storedBytes)),
      badge(w?.status ?? 'unknown'),
    ];
  });
  const body = rows.length
    ? table(['id', 'method', 'started', 'finished', 'size', 'added to repository', 'WAL'], rows, 'backups') + shown.more
    : note('no physical backup');
  return section('backups', 'Physical backups', body);
}

function dumpsPanel(v: ClusterView): string {
  const dumps = v.backups.filter((b) => b.kind !== 'physical');
  const shown = newestFirst(dumps, 'pgkeep list');
  const rows = shown.rows.map((b) => [
    `<code>${esc(b.id)}</code>`,
    esc(b.method),
    esc(when(b.stopTime)),
    esc(bytes(b.size)),
    esc(bytes(b.storedBytes)),
  ]);
  const body = rows.length
    ? table(['id', 'kind', 'taken', 'size', 'added to repository'], rows, 'dumps') + shown.more
    : note('no logical dump');
  return section('dumps', 'Logical dumps', `<p><span data-field="dump-count">${dumps.length}</span> dump(s)</p>${body}`);
}

function drillsPanel(v: ClusterView): string {
  const d = v.drills;
  const shown = newestFirst(d.records, 'pgkeep drill list');
  const rows = shown.rows.map((r) => [
    esc(when(r.startedAt)),
    r.ok ? badge('ok') : `${badge('failed')} in ${esc(r.failedPhase ?? '?')}: ${esc(r.error ?? '')}`,
    esc(`${r.target.kind}${r.target.time ? ` ${r.target.time}` : ''}${r.target.lsn ? ` ${r.target.lsn}` : ''}`),
    `<code>${esc(r.backupId ?? '')}</code>`,
    `<span class="rto">${esc(seconds(r.rtoSeconds))}</span>`,
    esc(seconds(r.rpoSeconds)),
    esc(r.phases.map((p) => `${p.name} ${seconds(p.seconds)}`).join(', ')),
  ]);
  const damaged = d.damaged.map((x) => note(`damaged drill record ${x.object}: ${x.message}`, 'error'));
  const body = d.records.length
    ? drillSvg(d.records) + table(['started', 'result', 'target', 'backup', 'RTO', 'RPO', 'phases'], rows, 'drills') + shown.more
    : note('no drill recorded yet (pgkeep drill)');
  return section('drills', 'Restore drills', `${d.error ? note(d.error, 'error') : ''}${damaged.join('')}${body}`);
}

export function clusterPanels(v: ClusterView): string {
  const head = `<h2>${esc(v.cluster)} ${badge(v.status.state)}</h2>${v.serverError ? note(`server: ${v.serverError}`, 'error') : ''}`;
  const panels = [windowPanel(v), healthPanel(v), schedulePanel(v), backupsPanel(v), dumpsPanel(v), drillsPanel(v)];
  return `<article class="cluster" data-cluster="${esc(v.cluster)}">${head}\n${panels.join('\n')}</article>`;
}

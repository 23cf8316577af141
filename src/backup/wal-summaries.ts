/**
 * Which relation blocks changed since the previous backup, from the server's WAL summaries
 * (PostgreSQL 17+, summarize_wal = on). For an LSN range on one timeline a summary lists, per
 * relation fork (tablespace, database, relfilenode, fork), the blocks that a WAL record touched
 * and a "limit block" when the fork was truncated, created or dropped in the range (blocks at
 * and above it are to be treated as changed; 0 = the whole fork). A row with relfilenode 0 and a
 * limit block means the whole database directory in that tablespace was created or dropped.
 *
 * The summaries can vouch for a block only if they continuously cover [previous backup's start
 * LSN, this backup's start LSN] on the same timeline: the previous copy of a block was read
 * after its start, so a block no WAL record touched since then is the same now, and whatever
 * changes after this backup's start is replayed from WAL. Anything else falls back to a full read
 * (`{ use: false, reason }`); nothing here is ever a reason to fail the backup.
 *
 * Memory: changed blocks are kept per relation fork as sorted chunk indexes (grouped in SQL to
 * the repository's chunk size), not as one entry per block.
 */
import type pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatLsn, parseLsn } from '../pg/lsn.js';
import type { SnapshotManifest } from '../repo/index.js';
import type { StartInfo } from './types.js';

/** Changed blocks of one relation fork, in groups of `groupBlocks` blocks (sorted, distinct). */
export interface ForkChanges {
  groups: number[];
  /** Blocks >= this are changed (truncated, created or dropped in the range); undefined: none. */
  limitBlock?: number;
}

export interface WalChanges {
  /** Blocks per group in `groups` (repository chunk size / block size, at least 1). */
  groupBlocks: number;
  /** Key `${spcOid}/${dbOid}/${relfilenode}/${forkNumber}`. */
  forks: Map<string, ForkChanges>;
  /** `${spcOid}/${dbOid}` of database directories created or dropped in the range. */
  recreatedDatabases: Set<string>;
  /** The LSN range and timeline the summaries covered. */
  from: string;
  to: string;
  timeline: number;
  summaries: number;
}

export type WalChangesPlan = { use: true; changes: WalChanges } | { use: false; reason: string };

export interface WalChangesInput {
  major: number;
  /** The snapshot this backup is incremental to. */
  previous: SnapshotManifest | undefined;
  start: StartInfo;
  chunkSize: number;
  blockSize: number;
  /** False: the caller asked for a full read (--checksum-all, --no-wal-summaries). */
  enabled: boolean;
  disabledBecause?: string;
  /** Longest wait for the WAL summarizer to reach this backup's start (default 30 s). */
  waitMs?: number;
  signal?: AbortSignal;
}

const DEFAULT_WAIT_MS = 30_000;

export async function walChangesSincePrevious(client: pg.Client, i: WalChangesInput): Promise<WalChangesPlan> {
  const no = (reason: string): WalChangesPlan => ({ use: false, reason });
  if (!i.enabled) return no(i.disabledBecause ?? 'WAL summaries disabled');
  if (i.major < 17) return no(`PostgreSQL ${i.major} keeps no WAL summaries (17 or newer with summarize_wal = on)`);
  const setting = (await client.query("SELECT current_setting('summarize_wal') AS on")).rows[0].on as string;
  if (setting !== 'on') return no('summarize_wal is off on the server');
  const prev = previousStart(i.previous, i.major);
  if (typeof prev === 'string') return no(prev);
  if (prev.timeline !== i.start.timeline) return no(`the previous backup is on timeline ${prev.timeline}, this one on ${i.start.timeline}`);
  if (prev.lsn > i.start.startLsn)
    return no(`the previous backup started at ${formatLsn(prev.lsn)}, after this one (${formatLsn(i.start.startLsn)})`);
  if (i.chunkSize % i.blockSize !== 0)
    return no(`the repository's chunk size (${i.chunkSize}) is not a multiple of the block size (${i.blockSize})`);

  const reached = await waitForSummarizer(client, i.start, i.waitMs ?? DEFAULT_WAIT_MS, i.signal);
  if (reached !== true) return no(reached);

  const { rows } = await client.query(
    `SELECT start_lsn::text AS start, end_lsn::text AS end FROM pg_available_wal_summaries()
      WHERE tli = $1 AND end_lsn > $2::pg_lsn AND start_lsn < $3::pg_lsn ORDER BY start_lsn`,
    [i.start.timeline, formatLsn(prev.lsn), formatLsn(i.start.startLsn)],
  );
  const ranges = rows.map((r) => ({ start: parseLsn(r.start), end: parseLsn(r.end) }));
  const gap = firstGap(ranges, prev.lsn, i.start.startLsn);
  if (gap) {
    return no(
      `the WAL summaries do not cover ${formatLsn(gap.from)}..${formatLsn(gap.to)} on timeline ${i.start.timeline} ` +
        '(summarize_wal was off for a while, or older summaries were removed: see wal_summary_keep_time)',
    );
  }
  const changes: WalChanges = {
    groupBlocks: i.chunkSize / i.blockSize,
    forks: new Map(),
    recreatedDatabases: new Set(),
    from: formatLsn(prev.lsn),
    to: formatLsn(i.start.startLsn),
    timeline: i.start.timeline,
    summaries: ranges.length,
  };
  for (const r of ranges) {
    i.signal?.throwIfAborted();
    await readSummary(client, i.start.timeline, r, changes);
  }
  for (const f of changes.forks.values()) f.groups = [...new Set(f.groups)].sort((a, b) => a - b);
  return { use: true, changes };
}

/** The previous backup's start (hot backups only) or why it cannot be used. */
function previousStart(m: SnapshotManifest | undefined, major: number): { lsn: bigint; timeline: number } | string {
  if (!m) return 'no previous backup of this cluster';
  const meta = m.meta as { method?: string; startLsn?: string; timeline?: number; serverVersionNum?: number };
  if (meta.method !== 'local' && meta.method !== 'stream')
    return `the previous backup (${m.id}) is a ${meta.method ?? 'unknown'} backup, not a hot one`;
  if (Math.floor((meta.serverVersionNum ?? 0) / 10000) !== major)
    return `the previous backup (${m.id}) is of another PostgreSQL major version`;
  if (typeof meta.startLsn !== 'string' || typeof meta.timeline !== 'number') return `the previous backup (${m.id}) recorded no start LSN`;
  return { lsn: parseLsn(meta.startLsn), timeline: meta.timeline };
}

/** Wait (bounded) until the summarizer has summarized this timeline up to the backup's start. */
async function waitForSummarizer(client: pg.Client, start: StartInfo, waitMs: number, signal?: AbortSignal): Promise<true | string> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await client.query(
      'SELECT summarized_tli::int AS tli, summarized_lsn::text AS lsn FROM pg_get_wal_summarizer_state()',
    );
    const tli = Number(rows[0].tli);
    const lsn = parseLsn(rows[0].lsn);
    if (tli > start.timeline || (tli === start.timeline && lsn >= start.startLsn)) return true;
    if (Date.now() >= deadline) {
      return (
        `the WAL summarizer has not reached this backup's start ${formatLsn(start.startLsn)} after ${Math.round(waitMs / 1000)} s ` +
        `(it is at ${formatLsn(lsn)} on timeline ${tli})`
      );
    }
    signal?.throwIfAborted();
    await sleep(200, undefined, { signal });
  }
}

/** The first part of [from, to) no summary covers, if any (ranges sorted by start). */
export function firstGap(
  ranges: readonly { start: bigint; end: bigint }[],
  from: bigint,
  to: bigint,
): { from: bigint; to: bigint } | undefined {
  let at = from;
  for (const r of ranges) {
    if (at >= to) break;
    if (r.start > at) return { from: at, to: r.start < to ? r.start : to };
    if (r.end > at) at = r.end;
  }
  return at < to ? { from: at, to } : undefined;
}

/** Read one summary, grouped in SQL by fork and block group, into `changes`. */
async function readSummary(client: pg.Client, timeline: number, r: { start: bigint; end: bigint }, changes: WalChanges): Promise<void> {
  const { rows } = await client.query(
    `SELECT reltablespace::text AS spc, reldatabase::text AS db, relfilenode::text AS rel, relforknumber::int AS fork,
            min(relblocknumber) FILTER (WHERE is_limit_block)::text AS limit_block,
            array_agg(DISTINCT relblocknumber / $4) FILTER (WHERE NOT is_limit_block)::text[] AS groups
       FROM pg_wal_summary_contents($1, $2::pg_lsn, $3::pg_lsn)
      GROUP BY 1, 2, 3, 4`,
    [timeline, formatLsn(r.start), formatLsn(r.end), changes.groupBlocks],
  );
  for (const row of rows) {
    if (row.rel === '0') {
      changes.recreatedDatabases.add(`${row.spc}/${row.db}`);
      continue;
    }
    const key = `${row.spc}/${row.db}/${row.rel}/${row.fork}`;
    let f = changes.forks.get(key);
    if (!f) changes.forks.set(key, (f = { groups: [] }));
    for (const g of (row.groups as string[] | null) ?? []) f.groups.push(Number(g));
    if (row.limit_block !== null) {
      const limit = Number(row.limit_block);
      f.limitBlock = f.limitBlock === undefined ? limit : Math.min(f.limitBlock, limit);
    }
  }
}

/**
 * Loading the rows of pg_restore's data script through several sessions at once. pg_restore -j
 * runs one COPY per table, so one big table keeps one core busy while the others wait; here a
 * table's row batches go to whichever session has the least queued, so a big table is loaded
 * by all sessions and small tables overlap.
 *
 * A table stays all-or-nothing, as with pg_restore: each session loads its part of the table
 * in its own transaction, and when the table's rows end, all of them commit if every part
 * succeeded, and all roll back if one failed. A session that finished its part of one table
 * takes no rows of the next until that table is settled.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type pg from 'pg';
import { copyIn, type CopyResult } from '../../pg/copy.js';
import type { CopyStreamEvent } from './copy-stream.js';

/** Rows queued per session before the reader waits (the script is read no faster than loaded). */
const QUEUE_BYTES = 4 * 1024 * 1024;

export interface TableFailure {
  /** The table as the COPY statement names it. */
  table: string;
  /** Its position among the script's tables (0-based). */
  index: number;
  error: unknown;
  /** Rows that other sessions had committed when this failed (0: the table has none of its rows). */
  committedRows: number;
}

export interface ParallelLoadResult {
  tables: number;
  rows: number;
  failures: TableFailure[];
}

export interface ParallelLoadInput {
  events: AsyncIterable<CopyStreamEvent>;
  /** Open sessions on the target database (one per job); the caller ends them. */
  sessions: pg.Client[];
  /** Go on with the other tables after one failed (default: stop reading at the first). */
  continueOnError?: boolean;
  signal?: AbortSignal;
  onTable?: (table: string) => void;
  onBytes?: (bytes: number) => void;
}

interface TableLoad {
  table: string;
  index: number;
  sql: string;
  parts: Map<Lane, Part>;
  failed?: unknown;
}

interface Part {
  stream: PassThrough;
  /** Bytes of the table handed to this session. */
  given: number;
  done: Promise<CopyResult>;
}

interface Lane {
  client: pg.Client;
  /** Settings of the script this session has been given. */
  applied: number;
  /** The table this session is loading, or settling. */
  table?: TableLoad;
  /** The connection ended (server gone, backend terminated): no more rows for it. */
  lost?: boolean;
}

export async function loadInParallel(i: ParallelLoadInput): Promise<ParallelLoadResult> {
  const lanes: Lane[] = i.sessions.map((client) => {
    const lane: Lane = { client, applied: 0 };
    client.once('end', () => {
      lane.lost = true;
    });
    return lane;
  });
  const settings: string[] = [];
  const settling = new Set<Promise<void>>();
  const failures: TableFailure[] = [];
  let rows = 0;
  let tables = 0;
  let bytes = 0;
  let current: TableLoad | undefined;
  const stopped = () => failures.length > 0 && !i.continueOnError;

  const startPart = (lane: Lane, t: TableLoad): Part => {
    const stream = new PassThrough({ highWaterMark: QUEUE_BYTES });
    const pending = settings.slice(lane.applied);
    lane.applied = settings.length;
    lane.table = t;
    const done = (async () => {
      for (const sql of pending) await lane.client.query(sql);
      await lane.client.query('BEGIN');
      return copyIn(lane.client, t.sql, stream, { signal: i.signal });
    })();
    done.catch((e) => {
      t.failed ??= e;
      stream.resume(); // nobody reads it any more: let writes through
    });
    const part = { stream, done, given: 0 };
    t.parts.set(lane, part);
    return part;
  };

  /** The session for the next batch of `t`: one of its own or a free one, the least queued; undefined to drop it. */
  const pickLane = async (t: TableLoad): Promise<Lane | undefined> => {
    for (;;) {
      if (t.failed !== undefined) return undefined;
      if (lanes.every((l) => l.lost)) throw new Error('every session to the target database was lost');
      const candidates = lanes.filter((l) => !l.lost && (l.table === t || l.table === undefined));
      if (candidates.length) {
        // Spread the table evenly over the sessions that keep up; else the least behind.
        const queued = (l: Lane) => t.parts.get(l)?.stream.writableLength ?? 0;
        const given = (l: Lane) => t.parts.get(l)?.given ?? 0;
        const keepingUp = candidates.filter((l) => queued(l) < QUEUE_BYTES);
        if (keepingUp.length) return keepingUp.reduce((a, b) => (given(b) < given(a) ? b : a));
        return candidates.reduce((a, b) => (queued(b) < queued(a) ? b : a));
      }
      if (!settling.size) throw new Error('no session can take the rows (internal: none free, none settling)');
      await Promise.race(settling);
    }
  };

  const write = async (t: TableLoad, data: Buffer[], length: number): Promise<void> => {
    const lane = await pickLane(t);
    if (!lane) return;
    const part = t.parts.get(lane) ?? startPart(lane, t);
    part.given += length;
    let room = true;
    for (const piece of data) room = part.stream.write(piece);
    if (!room) {
      await Promise.race([once(part.stream, 'drain'), part.done.then(noop, noop)]);
    }
  };

  /**
   * All parts of `t` commit, or all roll back. Only a session lost between the first COMMIT and
   * the last can leave part of the rows: `committedRows` says how many.
   */
  const settle = async (t: TableLoad, reason?: unknown, quiet = false): Promise<void> => {
    if (reason !== undefined) t.failed ??= reason;
    for (const p of t.parts.values()) p.stream.end();
    const lanesOf = [...t.parts.keys()];
    const results = await Promise.allSettled([...t.parts.values()].map((p) => p.done));
    for (const r of results) if (r.status === 'rejected') t.failed ??= r.reason;
    let committedRows = 0;
    for (const [n, lane] of lanesOf.entries()) {
      const commit = t.failed === undefined;
      try {
        await lane.client.query(commit ? 'COMMIT' : 'ROLLBACK');
        const r = results[n]!;
        if (commit && r.status === 'fulfilled') committedRows += r.value.rows;
      } catch (e) {
        // A session that cannot even roll back is gone: it takes no more rows.
        t.failed ??= e;
        lane.lost = true;
      }
      lane.table = undefined;
    }
    if (t.failed === undefined) rows += committedRows;
    else if (!quiet) failures.push({ table: t.table, index: t.index, error: t.failed, committedRows });
  };

  const endTable = (t: TableLoad, reason?: unknown, quiet?: boolean) => {
    const p = settle(t, reason, quiet).finally(() => settling.delete(p));
    settling.add(p);
  };

  try {
    for await (const ev of i.events) {
      i.signal?.throwIfAborted();
      if (ev.kind === 'setting') settings.push(ev.sql);
      else if (ev.kind === 'start') {
        current = { table: ev.table, index: tables++, sql: ev.sql, parts: new Map() };
        i.onTable?.(ev.table);
      } else if (ev.kind === 'rows' && current) {
        bytes += ev.bytes;
        i.onBytes?.(bytes);
        await write(current, ev.data, ev.bytes);
      } else if (ev.kind === 'end' && current) {
        // A table with no rows still runs its COPY, as pg_restore does (and fails the same way on a missing table).
        if (!current.parts.size) startPart((await pickLane(current)) ?? lanes[0]!, current);
        endTable(current);
        current = undefined;
      }
      if (stopped()) break;
    }
  } catch (e) {
    if (current) endTable(current, e);
    current = undefined;
    await Promise.allSettled(settling);
    throw e;
  }
  // Stopped at another table's error: this one's rows so far are rolled back, not reported.
  if (current) endTable(current, new Error('stopped at an earlier error'), true);
  await Promise.allSettled(settling);
  return { tables, rows, failures };
}

function noop(): void {}

/**
 * One START_REPLICATION on one timeline, from a segment start until the receiver is told to stop,
 * the server ends the timeline, or the connection goes away:
 *
 *   start streaming -> for each event:
 *     XLogData   -> into the segment buffer; a complete segment is stored, its .partial deleted,
 *                   and flush reported up to its end
 *     keepalive  -> remember the server's WAL end; when asked to reply, upload the .partial and
 *                   report it flushed (a server shutting down waits until all it sent is flushed)
 *     idle/timer -> upload the .partial when due (with --synchronous: whenever the stream is
 *                   idle, and report it as flushed); emit progress
 *   stop       -> upload the .partial, send the final status, end the COPY
 *
 * Memory: one segment buffer (SegmentBuffer) plus at most STREAM_HIGH_WATER bytes queued by the
 * stream while a repository write is in progress.
 */
import { PgkeepError } from '../../errors.js';
import { type Lsn, formatLsn } from '../../pg/lsn.js';
import type { ReplicationClient, WalEvent, WalStream } from '../../pg/protocol/index.js';
import { readSegmentHeader } from '../../pg/wal/identify.js';
import { PartialSchedule, type PartialPolicy } from './partial.js';
import { EventPump } from './pump.js';
import type { SegmentBuffer } from './segment-buffer.js';
import { deletePartial, storePartial, storeWriteOnce, type WalTarget } from './store.js';
import type { StreamEvent } from './types.js';

/** WAL the stream may queue while the receiver writes to the repository. */
export const STREAM_HIGH_WATER = 4 * 1024 * 1024;
/** The stream re-sends the last status this often (well inside wal_sender_timeout's 60 s default). */
const STATUS_RESEND_MS = 10_000;

/** What the receiver keeps across sessions and reconnects. */
export interface ReceiverState {
  target: WalTarget;
  segSize: number;
  buffer: SegmentBuffer;
  receivedLsn: Lsn;
  flushedLsn: Lsn;
  serverLsn: Lsn | null;
  /** True once a START_REPLICATION succeeded (later failures are retried). */
  streamed: boolean;
  /** True when the current connection received WAL (the backoff starts over). */
  receivedThisConnection: boolean;
  segmentsStored: number;
  segmentsAlreadyArchived: number;
  partialUploads: number;
  /** Name of the last `.partial` stored and not yet replaced by its complete segment. */
  lastPartial?: string;
}

export interface SessionConfig {
  slot?: string;
  synchronous: boolean;
  partial: PartialPolicy;
  progressIntervalMs: number;
  signal?: AbortSignal;
  emit: (e: StreamEvent) => void;
}

export type SessionEnd =
  | { kind: 'stopped' }
  | { kind: 'end-of-timeline'; nextTimeline: number; switchpoint: Lsn }
  | { kind: 'server-ended' };

export async function runSession(
  rc: ReplicationClient,
  state: ReceiverState,
  cfg: SessionConfig,
  start: { lsn: Lsn; timeline: number },
): Promise<SessionEnd> {
  const { buffer, target } = state;
  buffer.beginAt(start.timeline, start.lsn);
  const schedule = new PartialSchedule(cfg.partial, Date.now());
  schedule.reset(buffer.startLsn, Date.now());
  state.receivedLsn = buffer.position;

  const stream = await rc.startReplication({
    slot: cfg.slot,
    startLsn: buffer.startLsn,
    timeline: start.timeline,
    statusIntervalMs: STATUS_RESEND_MS,
    highWaterMark: STREAM_HIGH_WATER,
  });
  state.streamed = true;

  // Complete segments are flushed; a .partial upload counts with --synchronous, and when the
  // server asks for a reply (it does at shutdown, and waits until everything sent is flushed).
  let partialFlushed: Lsn = 0n;
  const flushed = (): Lsn => (partialFlushed > buffer.startLsn ? partialFlushed : buffer.startLsn);
  const report = (s: WalStream = stream): void => {
    state.flushedLsn = flushed();
    s.sendStatus({ write: state.receivedLsn, flush: state.flushedLsn, apply: 0n });
  };
  const progress = (): void => {
    const lag = state.serverLsn === null ? null : state.serverLsn > state.flushedLsn ? state.serverLsn - state.flushedLsn : 0n;
    cfg.emit({
      type: 'progress',
      timeline: buffer.timeline,
      receivedLsn: state.receivedLsn,
      flushedLsn: state.flushedLsn,
      serverLsn: state.serverLsn,
      lagBytes: lag,
    });
  };

  const uploadPartial = async (countsAsFlushed = cfg.synchronous): Promise<void> => {
    const upTo = buffer.position;
    if (schedule.pending(upTo)) {
      const name = buffer.fileName;
      await storePartial(target, name, buffer.partialContents());
      schedule.uploaded(upTo, Date.now());
      state.partialUploads++;
      state.lastPartial = `${name}.partial`;
      cfg.emit({ type: 'partial', file: `${name}.partial`, upTo });
    }
    if (countsAsFlushed && schedule.uploadedPosition > partialFlushed) {
      partialFlushed = schedule.uploadedPosition;
      report();
    }
  };

  const completeSegment = async (): Promise<void> => {
    const name = buffer.fileName;
    const data = buffer.contents();
    checkSegmentHeader(data, name, target.systemId, buffer.startLsn);
    const status = await storeWriteOnce(target, name, data);
    await deletePartial(target, name);
    if (state.lastPartial === `${name}.partial`) state.lastPartial = undefined;
    if (status === 'stored') state.segmentsStored++;
    else state.segmentsAlreadyArchived++;
    cfg.emit({ type: 'segment', file: name, status });
    buffer.begin(buffer.timeline, buffer.segNo + 1n);
    schedule.reset(buffer.startLsn, Date.now());
    report();
  };

  const feed = async (ev: Extract<WalEvent, { type: 'xlogdata' }>): Promise<void> => {
    let off = 0;
    while (off < ev.data.length) {
      off += buffer.append(ev.start + BigInt(off), ev.data.subarray(off));
      state.receivedLsn = buffer.position;
      if (buffer.complete) await completeSegment();
    }
    if (ev.data.length > 0) state.receivedThisConnection = true;
    if (state.serverLsn === null || ev.end > state.serverLsn) state.serverLsn = ev.end;
  };

  const pump = new EventPump<WalEvent>(stream[Symbol.asyncIterator](), cfg.signal);
  let endOfTimeline: SessionEnd | undefined;
  let nextProgress = Date.now() + cfg.progressIntervalMs;
  try {
    report();
    for (;;) {
      const now = Date.now();
      const partialWait = cfg.synchronous && schedule.pending(buffer.position) ? 0 : schedule.msUntilDue(buffer.position, now);
      const r = await pump.next(Math.min(nextProgress - now, partialWait));
      if (r.kind === 'stop') {
        await uploadPartial();
        report();
        return { kind: 'stopped' };
      }
      if (r.kind === 'done') {
        await uploadPartial();
        return endOfTimeline ?? { kind: 'server-ended' };
      }
      if (r.kind === 'event') {
        const ev = r.value;
        if (ev.type === 'xlogdata') await feed(ev);
        else if (ev.type === 'keepalive') {
          state.serverLsn = ev.end;
          if (ev.replyRequested) {
            await uploadPartial(true);
            report();
          }
        } else {
          endOfTimeline = { kind: 'end-of-timeline', nextTimeline: ev.nextTimeline, switchpoint: ev.nextTimelineStartLsn };
        }
      }
      const t = Date.now();
      if (schedule.due(buffer.position, t) || (cfg.synchronous && r.kind === 'idle')) await uploadPartial();
      if (t >= nextProgress) {
        report();
        progress();
        nextProgress = t + cfg.progressIntervalMs;
      }
    }
  } catch (e) {
    // the server went away (or a write failed): keep what was received, if the repository lets us
    if (!buffer.complete) await uploadPartial().catch(() => {});
    throw e;
  } finally {
    await pump.close();
    await Promise.race([stream.whenFinished(), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}

/** The first page of a streamed segment must say it is this system's segment at this position. */
function checkSegmentHeader(data: Buffer, name: string, systemId: string, startLsn: Lsn): void {
  const h = readSegmentHeader(data, `streamed segment ${name}`);
  if (h.systemIdentifier !== systemId || h.pageAddress !== startLsn) {
    throw new PgkeepError(
      'DATA_INTEGRITY',
      `streamed segment ${name} does not look like its own start: its page header says system ${h.systemIdentifier} ` +
        `at ${formatLsn(h.pageAddress)}, expected system ${systemId} at ${formatLsn(startLsn)}; not stored`,
      {
        hint: 'the stream is out of step with the server; restart the receiver, and report this if it happens again',
        details: { file: name, headerSystem: h.systemIdentifier, headerAddress: formatLsn(h.pageAddress) },
      },
    );
  }
}

/**
 * `pgkeep wal stream`: a long-running WAL receiver that stores the server's WAL in the repository
 * as it is written, under the same names archive_command uses.
 *
 *   connect -> identify the system (same cluster identity as backups and wal push)
 *   -> store the timeline history -> prepare the slot -> find where to start
 *   -> stream one timeline after another (session.ts) until stopped
 *   -> when the server goes away: reconnect with exponential backoff and resume at the start of
 *      the segment being received (everything before it is stored)
 *
 * Failures before streaming ever started end the receiver at once (a wrong setting should be
 * seen, not retried) unless they pass by themselves (backoff.ts); later, connection and storage
 * failures are retried.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PgkeepError, toPgkeepError } from '../../errors.js';
import { checkClusterIdentity } from '../../holdings/cluster-identity.js';
import { type Lsn, formatLsn, parseWalSegmentSizeSetting } from '../../pg/lsn.js';
import { walFileNameForLsn } from '../../pg/wal-name.js';
import { ReplicationClient } from '../../pg/protocol/index.js';
import { listArchive } from '../../holdings/wal-listing.js';
import { DEFAULT_BACKOFF, backoffDelay, isRetryable, isRetryableAtStart, type BackoffPolicy } from './backoff.js';
import { DEFAULT_PARTIAL_POLICY } from './partial.js';
import { type ServerChain, type StartPosition, chooseStartPosition, lastArchivedPosition, resumeOnChain } from './position.js';
import { SegmentBuffer } from './segment-buffer.js';
import { type ReceiverState, type SessionConfig, runSession } from './session.js';
import { prepareSlot } from './slot.js';
import { fetchAndStoreHistory, nextTimelineStart, serverChain } from './timeline.js';
import type { StreamEvent, StreamWalOptions, StreamWalResult } from './types.js';

export async function streamWal(opts: StreamWalOptions): Promise<StreamWalResult> {
  const emit = (e: StreamEvent): void => opts.onEvent?.(e);
  const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...opts.backoff };
  const cfg: SessionConfig = {
    slot: opts.slot,
    synchronous: opts.synchronous ?? false,
    partial: { ...DEFAULT_PARTIAL_POLICY, ...opts.partial },
    progressIntervalMs: opts.progressIntervalMs ?? 5000,
    signal: opts.signal,
    emit,
  };
  const run: RunState = { state: undefined, timeline: 0, timelineSwitches: 0, reconnects: 0 };
  let attempt = 0;

  while (!opts.signal?.aborted) {
    let rc: ReplicationClient | undefined;
    try {
      rc = await ReplicationClient.connect(opts.connection, { signal: opts.signal, applicationName: opts.applicationName });
      const outcome = await streamConnection(rc, opts, cfg, run, emit);
      if (outcome === 'stopped') break;
      throw new PgkeepError('CONNECTION', 'the server ended WAL streaming (it is shutting down or restarting)', {
        hint: 'the receiver reconnects by itself',
      });
    } catch (e) {
      if (opts.signal?.aborted) break;
      const err = toPgkeepError(e);
      if (run.state?.streamed ? !isRetryable(err) : !isRetryableAtStart(err)) throw err;
      if (run.state?.receivedThisConnection) attempt = 0;
      const retryInMs = backoffDelay(attempt++, backoff);
      run.reconnects++;
      emit({ type: 'disconnected', error: err, attempt, retryInMs });
      try {
        await sleep(retryInMs, undefined, { signal: opts.signal });
      } catch {
        break; // stopped while waiting
      }
    } finally {
      await rc?.close();
    }
  }

  const s = run.state;
  if (!s) throw new PgkeepError('INTERRUPTED', 'WAL streaming was stopped before it started');
  emit({ type: 'stopped', flushedLsn: s.flushedLsn, ...(s.lastPartial ? { partial: s.lastPartial } : {}) });
  return {
    systemId: s.target.systemId,
    timeline: run.timeline,
    receivedLsn: s.receivedLsn,
    flushedLsn: s.flushedLsn,
    segmentsStored: s.segmentsStored,
    segmentsAlreadyArchived: s.segmentsAlreadyArchived,
    partialUploads: s.partialUploads,
    timelineSwitches: run.timelineSwitches,
    reconnects: run.reconnects,
    ...(s.lastPartial ? { lastPartial: s.lastPartial } : {}),
  };
}

interface RunState {
  state: ReceiverState | undefined;
  timeline: number;
  timelineSwitches: number;
  reconnects: number;
}

/** One connection: identify, find the start, then stream timeline after timeline. */
async function streamConnection(
  rc: ReplicationClient,
  opts: StreamWalOptions,
  cfg: SessionConfig,
  run: RunState,
  emit: (e: StreamEvent) => void,
): Promise<'stopped' | 'server-ended'> {
  const id = await rc.identifySystem();
  const segSize = parseWalSegmentSizeSetting(await rc.showSetting('wal_segment_size'));
  const state = await receiverState(run, opts, id.systemId, segSize);
  state.receivedThisConnection = false;
  emit({
    type: 'connected',
    systemId: id.systemId,
    timeline: id.timeline,
    serverLsn: id.xlogpos,
    segmentSize: segSize,
    serverVersionNum: rc.serverVersionNum,
  });
  if (state.serverLsn === null || id.xlogpos > state.serverLsn) state.serverLsn = id.xlogpos;

  const chain = await serverChain(rc, state.target, id.timeline, (h) => emit({ type: 'history', ...h }));
  const first = !state.streamed;
  let pos: StartPosition = first
    ? await firstPosition(rc, opts, state, chain, id.xlogpos, emit)
    : resumeOnChain(state.buffer.startLsn, state.buffer.timeline, chain, segSize);

  let why: Extract<StreamEvent, { type: 'start' }>['source'] = first ? pos.source : 'reconnect';
  for (;;) {
    run.timeline = pos.timeline;
    emit({ type: 'start', timeline: pos.timeline, lsn: pos.lsn, source: why, ...(opts.slot ? { slot: opts.slot } : {}) });
    const end = await runSession(rc, state, cfg, pos).catch((e) => {
      throw explainStartFailure(e, pos, segSize);
    });
    if (end.kind !== 'end-of-timeline') return end.kind;
    const next = nextTimelineStart(end.nextTimeline, end.switchpoint, segSize);
    emit({ type: 'timeline-switch', from: pos.timeline, to: next.timeline, switchpoint: end.switchpoint });
    await fetchAndStoreHistory(rc, state.target, next.timeline, (h) => emit({ type: 'history', ...h }));
    run.timelineSwitches++;
    pos = { ...next, source: 'resume' };
    why = 'timeline-switch';
  }
}

/** The receiver's state, created on the first connection; later connections must reach the same system. */
async function receiverState(run: RunState, opts: StreamWalOptions, systemId: string, segSize: number): Promise<ReceiverState> {
  if (run.state) {
    if (run.state.target.systemId !== systemId || run.state.segSize !== segSize) {
      throw new PgkeepError(
        'CONFLICT',
        `the server is now PostgreSQL system ${systemId}, but WAL was being streamed from system ${run.state.target.systemId}`,
        {
          hint: 'the connection reaches a different cluster than before; fix the connection settings',
          details: { streamed: run.state.target.systemId, server: systemId },
        },
      );
    }
    return run.state;
  }
  await checkClusterIdentity(opts.repo, opts.cluster, systemId);
  run.state = {
    target: { repo: opts.repo, cluster: opts.cluster, systemId, ...(opts.codec ? { codec: opts.codec } : {}) },
    segSize,
    buffer: new SegmentBuffer(segSize),
    receivedLsn: 0n,
    flushedLsn: 0n,
    serverLsn: null,
    streamed: false,
    receivedThisConnection: false,
    segmentsStored: 0,
    segmentsAlreadyArchived: 0,
    partialUploads: 0,
  };
  return run.state;
}

/** Where a new receiver starts: after the archive, at the slot, or at the server's current segment. */
async function firstPosition(
  rc: ReplicationClient,
  opts: StreamWalOptions,
  state: ReceiverState,
  chain: ServerChain,
  serverLsn: Lsn,
  emit: (e: StreamEvent) => void,
): Promise<StartPosition> {
  let slotRestartLsn: Lsn | null | undefined;
  if (opts.slot) {
    const slot = await prepareSlot(rc, opts.connection, opts.slot, opts.createSlot ?? false, opts.signal);
    if (slot.created) emit({ type: 'slot-created', slot: slot.name, restartLsn: slot.restartLsn });
    slotRestartLsn = slot.restartLsn;
  } else {
    emit({
      type: 'no-slot-warning',
      message:
        'streaming without a replication slot: the server may recycle WAL before it is received (while the receiver ' +
        'is down or behind); use --slot NAME --create-slot',
    });
  }
  const archive = opts.fromCurrent ? undefined : (await listArchive(opts.repo, opts.cluster)).get(state.target.systemId);
  const archivedEnd = lastArchivedPosition(
    (archive?.files ?? []).map((f) => f.file),
    chain,
    state.segSize,
  );
  const pos = chooseStartPosition({ chain, segSize: state.segSize, archivedEnd, slotRestartLsn, serverLsn });
  if (pos.gapFrom !== undefined && pos.gapFrom < pos.lsn) {
    emit({
      type: 'gap-warning',
      from: pos.gapFrom,
      to: pos.lsn,
      message:
        `the archive ends at ${formatLsn(pos.gapFrom)} but the slot keeps WAL only from ${formatLsn(pos.lsn)}: ` +
        'WAL in between is not in the repository unless the archiver stores it; take a new backup',
    });
  }
  return pos;
}

/** A START_REPLICATION refused because the server removed the WAL: say what that means for the archive. */
function explainStartFailure(e: unknown, pos: StartPosition, segSize: number): unknown {
  if (!(e instanceof PgkeepError && e.code === 'NOT_FOUND' && e.details?.sqlstate === '58P01')) return e;
  const seg = walFileNameForLsn(pos.timeline, pos.lsn, segSize);
  const why =
    pos.source === 'repository'
      ? "the repository's archive of this cluster ends just before it, so WAL after the archive is lost"
      : 'it was needed to continue where the receiver was';
  return new PgkeepError('NOT_FOUND', `the server no longer has WAL segment ${seg} (from ${formatLsn(pos.lsn)}); ${why}`, {
    hint:
      'point-in-time recovery cannot cross this gap: start the receiver with --from-current (it then starts at the ' +
      "server's current segment) and take a new base backup. To keep WAL on the server while the receiver is down, " +
      'stream through a replication slot (--slot NAME --create-slot)',
    details: { segment: seg, lsn: formatLsn(pos.lsn), timeline: pos.timeline, source: pos.source },
    cause: e,
  });
}

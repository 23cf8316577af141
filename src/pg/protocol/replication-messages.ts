/**
 * CopyData payloads of START_REPLICATION (physical), both directions. No I/O.
 *   server -> client  'w' XLogData: Int64 walStart, Int64 walEnd, Int64 sendTime, Byte[n] data
 *                     'k' keepalive: Int64 walEnd, Int64 sendTime, Byte1 replyRequested
 *   client -> server  'r' standby status update: Int64 write, Int64 flush, Int64 apply,
 *                         Int64 clock, Byte1 replyRequested
 *                     'h' hot standby feedback: Int64 clock, Int32 xmin, Int32 xmin epoch,
 *                         Int32 catalog xmin, Int32 catalog xmin epoch
 * LSNs are unsigned 64-bit, times signed microseconds since 2000-01-01 UTC.
 */
import type { Lsn } from '../lsn.js';
import { protocolError } from './base-backup-messages.js';
import { toPgTimestamp } from './pg-time.js';

export interface XLogDataMessage {
  type: 'xlogdata';
  /** LSN of the first byte of `data`. */
  start: Lsn;
  /** The server's current end of WAL. */
  end: Lsn;
  sendTime: bigint;
  /** A view into the payload: copy it before keeping it past the current call. */
  data: Buffer;
}

export interface KeepaliveMessage {
  type: 'keepalive';
  end: Lsn;
  time: bigint;
  replyRequested: boolean;
}

export type ReplicationMessage = XLogDataMessage | KeepaliveMessage;

export function parseReplicationCopyData(payload: Buffer): ReplicationMessage {
  if (payload.length === 0) throw protocolError('empty CopyData message');
  switch (payload[0]) {
    case 0x77 /* w */:
      if (payload.length < 25) throw protocolError('truncated XLogData message');
      return {
        type: 'xlogdata',
        start: payload.readBigUInt64BE(1),
        end: payload.readBigUInt64BE(9),
        sendTime: payload.readBigInt64BE(17),
        data: payload.subarray(25),
      };
    case 0x6b /* k */:
      if (payload.length < 18) throw protocolError('truncated keepalive message');
      return {
        type: 'keepalive',
        end: payload.readBigUInt64BE(1),
        time: payload.readBigInt64BE(9),
        replyRequested: payload[17] !== 0,
      };
    default:
      throw protocolError(`unknown replication message type 0x${payload[0]!.toString(16)}`);
  }
}

export interface StandbyStatus {
  /** Last WAL byte + 1 received and written. */
  write: Lsn;
  /** Last WAL byte + 1 durably stored: the server may recycle WAL (and advance a slot) up to here. */
  flush: Lsn;
  /** Last WAL byte + 1 applied (a receiver that does not replay reports 0 or `flush`). */
  apply: Lsn;
  /** Microseconds since 2000-01-01 (default: now). */
  clock?: bigint;
  /** Ask the server to answer with a keepalive at once. */
  replyRequested?: boolean;
}

/** The 'r' standby status update payload (34 bytes). */
export function buildStandbyStatusUpdate(s: StandbyStatus): Buffer {
  const b = Buffer.alloc(34);
  b[0] = 0x72; // r
  b.writeBigUInt64BE(s.write, 1);
  b.writeBigUInt64BE(s.flush, 9);
  b.writeBigUInt64BE(s.apply, 17);
  b.writeBigInt64BE(s.clock ?? toPgTimestamp(), 25);
  b[33] = s.replyRequested ? 1 : 0;
  return b;
}

export interface HotStandbyFeedback {
  clock?: bigint;
  xmin: number;
  xminEpoch: number;
  catalogXmin: number;
  catalogXminEpoch: number;
}

/** The 'h' hot standby feedback payload (25 bytes); all zeros = no feedback. */
export function buildHotStandbyFeedback(f: HotStandbyFeedback): Buffer {
  const b = Buffer.alloc(25);
  b[0] = 0x68; // h
  b.writeBigInt64BE(f.clock ?? toPgTimestamp(), 1);
  b.writeUInt32BE(f.xmin >>> 0, 9);
  b.writeUInt32BE(f.xminEpoch >>> 0, 13);
  b.writeUInt32BE(f.catalogXmin >>> 0, 17);
  b.writeUInt32BE(f.catalogXminEpoch >>> 0, 21);
  return b;
}

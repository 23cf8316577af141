/**
 * Payloads of the CopyData messages BASE_BACKUP sends with TARGET 'client' (PostgreSQL 15+).
 * Each payload starts with a type byte:
 *   'n' new archive: archive name (cstring), tablespace location (cstring, empty for the main one)
 *   'd' archive or manifest data: the remaining bytes
 *   'p' progress: Int64 bytes sent so far
 *   'm' the manifest follows: subsequent 'd' messages carry backup_manifest
 * No I/O: one complete payload in, one typed message out.
 */
import { PgkeepError } from '../../errors.js';

export type BaseBackupMessage =
  | { type: 'new-archive'; name: string; location: string }
  /** A view into the payload: copy it before keeping it past the current call. */
  | { type: 'data'; data: Buffer }
  | { type: 'progress'; bytes: bigint }
  | { type: 'manifest' };

export function parseBaseBackupCopyData(payload: Buffer): BaseBackupMessage {
  if (payload.length === 0) throw protocolError('empty CopyData message');
  const kind = payload[0];
  switch (kind) {
    case 0x6e /* n */:
      {
        const [name, next] = readCString(payload, 1);
        const [location] = readCString(payload, next);
        return { type: 'new-archive', name, location };
      }
    case 0x64 /* d */:
      return { type: 'data', data: payload.subarray(1) };
    case 0x70 /* p */:
      if (payload.length < 9) throw protocolError('truncated progress message');
      return { type: 'progress', bytes: payload.readBigInt64BE(1) };
    case 0x6d /* m */:
      return { type: 'manifest' };
    default:
      throw protocolError(`unknown BASE_BACKUP message type 0x${kind!.toString(16)}`);
  }
}

/** A cstring at `offset`: returns the text and the offset after its NUL. */
export function readCString(buf: Buffer, offset: number): [string, number] {
  const end = buf.indexOf(0, offset);
  if (end < 0) throw protocolError('unterminated string in replication message');
  return [buf.toString('utf8', offset, end), end + 1];
}

export function protocolError(message: string): PgkeepError {
  return new PgkeepError('CONNECTION', `replication protocol error: ${message}`, {
    hint: 'the server sent something pgkeep does not understand; check that it is PostgreSQL 13 or newer and retry',
  });
}

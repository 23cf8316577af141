/** replication-client.test.ts's reader of a BASE_BACKUP stream: every file hashed (optionally slowly, for backpressure), events kept. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredFileFacts } from './manifest-verify.js';
import type { BackupEvent } from './base-backup-stream.js';

export interface BackupResult {
  events: BackupEvent[];
  files: Map<string, StoredFileFacts>;
  fileOrder: { archive: string; path: string }[];
  manifest?: Buffer;
}

export async function consumeBackup(
  stream: AsyncIterable<BackupEvent>,
  slow?: { pauseEveryBytes: number; ms: number },
): Promise<BackupResult> {
  const r: BackupResult = { events: [], files: new Map(), fileOrder: [] };
  for await (const ev of stream) {
    if (ev.type === 'file') {
      const hash = createHash('sha256');
      let size = 0;
      let sinceSleep = 0;
      await pipeline(
        ev.content,
        new Writable({
          write(chunk: Buffer, _enc, cb) {
            hash.update(chunk);
            size += chunk.length;
            sinceSleep += chunk.length;
            if (slow && sinceSleep >= slow.pauseEveryBytes) {
              sinceSleep = 0;
              setTimeout(cb, slow.ms);
            } else cb();
          },
        }),
      );
      assert.equal(size, ev.entry.size, ev.path);
      if (ev.entry.type === 'file') r.files.set(ev.path, { size, sha256hex: hash.digest('hex') });
      r.fileOrder.push({ archive: ev.archive, path: ev.path });
      r.events.push({ ...ev, content: undefined as never });
      if (slow) await sleep(1);
    } else {
      if (ev.type === 'manifest') r.manifest = ev.content;
      r.events.push(ev);
    }
  }
  return r;
}

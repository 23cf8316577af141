/**
 * Worker thread entry of the background pusher: its own repository handle, so that compressing,
 * encrypting and checking a segment use another core while the pusher's thread moves on. Each
 * message is one file to push (push.ts, every check included); the reply is its result or its
 * error (code, message, hint).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openRepository, type RepoLocation } from '../../repo/open.js';
import { passphraseGetter, type PassphraseSources } from '../../repo/passphrase.js';
import { toPgkeepError } from '../../errors.js';
import { pushWalFile } from '../push.js';
import { compressInOrder } from './compress-in-order.js';
import type { Codec } from '../../repo/codec.js';

export interface PushThreadData {
  repo: Omit<RepoLocation, 'signal'>;
  passphrase: PassphraseSources;
  cluster: string;
  pgdata?: string;
  codec?: Codec;
}

export interface PushThreadRequest {
  id: number;
  path: string;
}

export type PushThreadReply =
  | { id: number; ok: true; key: string; bytes: number; status: string }
  | { id: number; ok: false; code: string; message: string; hint?: string; details?: Record<string, unknown> };

const data = workerData as PushThreadData;
const repo = openRepository(data.repo, { getPassphrase: passphraseGetter(data.passphrase), jobs: 1 });
const inOrder = repo.then(compressInOrder);

parentPort!.on('message', async (m: PushThreadRequest | 'close') => {
  if (m === 'close') {
    await repo.then(
      (r) => r.closeAll(),
      () => undefined,
    );
    parentPort!.close();
    return;
  }
  let reply: PushThreadReply;
  try {
    const r = await (await inOrder)((r) => pushWalFile(r, { cluster: data.cluster, path: m.path, pgdata: data.pgdata, codec: data.codec }));
    reply = { id: m.id, ok: true, key: r.key, bytes: r.bytes, status: r.status };
  } catch (e) {
    const err = toPgkeepError(e);
    reply = {
      id: m.id,
      ok: false,
      code: err.code,
      message: err.message,
      ...(err.hint ? { hint: err.hint } : {}),
      ...(err.details ? { details: err.details } : {}),
    };
  }
  parentPort!.postMessage(reply);
});

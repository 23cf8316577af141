/** The streaming WAL receiver (`pgkeep wal stream`). */
export { streamWal } from './receiver.js';
export type { StreamEvent, StreamWalOptions, StreamWalResult } from './types.js';
export { DEFAULT_PARTIAL_POLICY, type PartialPolicy } from './partial.js';
export { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.js';
export {
  chooseStartPosition,
  lastArchivedPosition,
  resumeOnChain,
  type ServerChain,
  type StartPosition,
  type StartSource,
} from './position.js';
export { SegmentBuffer } from './segment-buffer.js';
export type { StreamRepo } from './store.js';

/** WAL archiving use cases: push (archive_command), get (restore_command), prefetch, check. */
export { pushWalFile } from './push.js';
export type { WalPushOptions, WalPushResult } from './push.js';
export { getWalFile } from './get.js';
export type { WalGetOptions, WalGetResult } from './get.js';
export { runPrefetch, prefetcherRunning, segmentsAfter } from './prefetch.js';
export type { PrefetchOptions, PrefetchResult } from './prefetch.js';
export { defaultSpoolRoot, spoolDir } from './spool.js';
export { cleanSpoolRoot } from './spool-clean.js';
export { checkArchive } from './check.js';
export type { BackupWalStatus, BackupWindow, TimelineReport, WalCheckReport, WalGap } from './check.js';
export { DEFAULT_PREFETCH } from './restore-command.js';
export { awaitEarlyPrefetch, startEarlyPrefetch, stopEarlyPrefetch, type EarlyPrefetch } from './early-prefetch.js';

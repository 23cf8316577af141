/** Point-in-time recovery: targets, choosing the backup, the archive's reach, waiting for the end of recovery. */
export type {
  PitrRequest,
  PitrTarget,
  PitrPlan,
  ArchiveReach,
  ArchiveGap,
  RecoveryEnd,
  TargetAction,
  TimelineChoice,
  WalUsed,
} from './types.js';
export { describeGap } from './archive-gap.js';
export { parsePitrFlags, parseTargetXid, parseTimelineChoice, targetSettings, targetValue, type PitrFlags } from './target.js';
export { parseTargetTime, formatPgTime, formatIsoMicros, type TargetTime } from './time.js';
export { planPitr, type PitrPlanInput } from './plan.js';
export { WalRecordScanner, describeEvent, type WalEvent } from '../../pg/wal/records.js';
export { waitForRecoveryEnd, parseRecoveryLog, logSize, type RecoveryLogFacts } from './wait.js';
export { checkRecoveryReachedPlan } from './check-end.js';

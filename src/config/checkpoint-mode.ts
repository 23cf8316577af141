/**
 * How a hot backup asks for the checkpoint it starts from (pg_basebackup's -c). A leaf:
 * config/ and the CLI parse it, backup/ passes it to BASE_BACKUP or pg_backup_start.
 *   fast    an immediate checkpoint: the backup starts now (the default: backups are taken on
 *           demand or by a schedule, where starting at once matters)
 *   spread  the server spreads the checkpoint's writes (checkpoint_completion_target), sparing
 *           the I/O of a busy primary; the backup then starts up to that long later
 */
import { PgkeepError } from '../errors.js';

export const CHECKPOINT_MODES = ['fast', 'spread'] as const;
export type CheckpointMode = (typeof CHECKPOINT_MODES)[number];

/** A configured value as a mode; CONFIG naming `from` when it is neither. */
export function parseCheckpointMode(value: unknown, from: string): CheckpointMode {
  if (value === 'fast' || value === 'spread') return value;
  throw new PgkeepError('CONFIG', `${from} must be "fast" or "spread", got ${JSON.stringify(value)}`, {
    hint: "fast starts the backup at once with an immediate checkpoint; spread spares the server's I/O and starts later",
  });
}

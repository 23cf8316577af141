/** Every scenario, in the order of `pgkeep scenario list` and docs/scenarios.md. */
import { PgkeepError } from '../errors.js';
import { DROP_TABLE } from './s01-drop-table.js';
import { RESTORE_TABLE } from './s02-restore-table.js';
import { MIGRATE } from './s03-migrate.js';
import { DUMPS_AND_ARCHIVING } from './s04-dumps-and-archiving.js';
import { COLD_BACKUP } from './s05-cold-backup.js';
import { COPY_EXPORT } from './s10-copy-export.js';
import { STANDBY } from './s06-standby.js';
import { DISASTER_RECOVERY } from './s07-disaster-recovery.js';
import { CORRUPT_PAGE } from './s08-corrupt-page.js';
import { ZERO_DATA_LOSS } from './s09-zero-data-loss.js';
import type { Scenario } from './types.js';

export const SCENARIOS: Scenario[] = [
  DROP_TABLE,
  RESTORE_TABLE,
  MIGRATE,
  DUMPS_AND_ARCHIVING,
  COLD_BACKUP,
  STANDBY,
  DISASTER_RECOVERY,
  CORRUPT_PAGE,
  ZERO_DATA_LOSS,
  COPY_EXPORT,
];

/** A scenario by name or number; USAGE naming the known ones otherwise. */
export function findScenario(nameOrNumber: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === nameOrNumber || String(x.number) === nameOrNumber);
  if (s) return s;
  throw new PgkeepError('USAGE', `no scenario named "${nameOrNumber}"`, {
    hint: `pgkeep scenario list shows them: ${SCENARIOS.map((x) => x.name).join(', ')}`,
  });
}

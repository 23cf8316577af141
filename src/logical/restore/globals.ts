/** --all: roles and tablespaces first, replayed by psql. */

import type { ConnectionParams } from '../../pg/connect.js';
import type { Snapshot } from '../../repo/index.js';
import type { PgTool } from '../../pg/bin.js';
import type { DumpMeta } from '../meta.js';
import { libpqEnv, withDatabase } from '../tools/libpq-env.js';
import { psqlArgs } from './pg-restore-args.js';
import { toRestoredErrors, unexplained } from './restored-errors.js';
import { runRestoreTool } from './run-restore.js';
import { maintenanceDb } from './target-server.js';
import type { RestoreDumpOptions, RestoredError, RestoredPart } from './types.js';

export async function restoreGlobals(
  o: RestoreDumpOptions,
  snapshot: Snapshot,
  meta: DumpMeta,
  psql: PgTool,
  params: ConnectionParams,
): Promise<RestoredPart> {
  const started = Date.now();
  const db = o.intoUrl ? params.database : maintenanceDb('');
  o.onProgress?.({ part: 'globals', step: 'roles and tablespaces' });
  const r = await runRestoreTool({
    tool: psql,
    args: psqlArgs(db, false),
    env: libpqEnv(withDatabase(params, db)),
    input: o.repo.readFile(snapshot, meta.globals!.path, { signal: o.signal }),
    signal: o.signal,
  });
  const all = [...toRestoredErrors(r, undefined), ...unexplained(r, 'psql')];
  // Roles that exist already on the target (at least the one we connect as) are expected.
  const harmless = (e: RestoredError) => /^role ".*" already exists$/.test(e.message) || /^tablespace ".*" already exists$/.test(e.message);
  return {
    name: 'globals',
    target: '',
    mode: 'psql',
    skipped: [],
    errors: all.filter((e) => !harmless(e)),
    ignored: all.filter(harmless).map((e) => e.text),
    seconds: (Date.now() - started) / 1000,
  };
}

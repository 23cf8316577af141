/** A plain-format (SQL) dump of one database, replayed by psql. */

import { PgkeepError } from '../../errors.js';
import type { DbStep } from './database-step.js';
import { psqlArgs } from './pg-restore-args.js';
import { toRestoredErrors, unexplained } from './restored-errors.js';
import { runRestoreTool } from './run-restore.js';
import type { RestoredPart } from './types.js';

export async function restorePlainDatabase(s: DbStep, started: number): Promise<RestoredPart> {
  const { o, db, c } = s;
  if (s.target.mode === 'create' && !o.all) {
    // A single-database plain dump has no CREATE DATABASE.
    throw new PgkeepError('UNSUPPORTED', 'a plain-format dump of one database cannot --create it', {
      hint: 'create the database (createdb NAME) and restore with --into NAME',
    });
  }
  const r = await runRestoreTool({
    tool: c.psql!,
    args: psqlArgs(s.connectDb(), !o.continueOnError),
    env: s.env(),
    input: o.repo.readFile(s.snapshot, db.path, { signal: o.signal }),
    signal: o.signal,
    onBytes: (bytes) => s.progress({ bytes }),
  });
  return {
    name: db.name,
    target: s.target.db,
    mode: 'psql',
    skipped: [],
    ignored: [],
    errors: [...toRestoredErrors(r, undefined), ...unexplained(r, 'psql')],
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * The front record: what the sh front (bin/pgkeep) needs to answer `wal push PATH` of an
 * acknowledged file without node. It cannot read pgkeep.toml, so a node `wal push` that took the
 * asynchronous path writes down, for the sh to compare, everything that decided where the
 * acknowledgements are: the working directory, the arguments before PATH, every environment
 * variable the configuration was resolved from (set or unset), the config file (which must not be
 * modified after the record's time) and the candidate config paths that did not exist (which must
 * still not exist). Any difference and the sh runs node, which decides again and writes a new
 * record.
 *
 *   <pg_wal>/pgkeep-spool/front-push    (found from %p alone, whatever [archive] spool_path is)
 *
 * Line format, one item per line (a value holding a newline: no record is written):
 *   pgkeep front-push 1 | cwd DIR | pgwal DIR | arg A (in order) | env NAME=VALUE | unset NAME
 *   | config FILE | absent PATH | spool DIR | end
 * Written to a temporary file, renamed into place; its modification time is set to when the
 * process that resolved the configuration started, so that a config file changed since is newer.
 */
import { mkdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FRONT_PUSH_RECORD = 'front-push';
const HEADER = 'pgkeep front-push 1';

export interface FrontPushRecord {
  cwd: string;
  pgWalDir: string;
  /** The command line's arguments before PATH (ending with `wal push`). */
  args: string[];
  /** Every variable the configuration was resolved from; undefined = unset. */
  env: [string, string | undefined][];
  /** The config file read, if any. */
  config?: string;
  /** Config paths searched before it (or all of them) that did not exist. */
  absent: string[];
  spoolDir: string;
}

/** The record's text, or undefined when a value cannot be written on one line. */
export function formatFrontPushRecord(r: FrontPushRecord): string | undefined {
  const lines = [
    HEADER,
    `cwd ${r.cwd}`,
    `pgwal ${r.pgWalDir}`,
    ...r.args.map((a) => `arg ${a}`),
    ...r.env.map(([k, v]) => (v === undefined ? `unset ${k}` : `env ${k}=${v}`)),
    ...(r.config ? [`config ${r.config}`] : []),
    ...r.absent.map((p) => `absent ${p}`),
    `spool ${r.spoolDir}`,
    'end',
  ];
  if (lines.some((l) => /[\n\r\0]/.test(l))) return undefined;
  return lines.join('\n') + '\n';
}

export function frontPushRecordPath(pgWalDir: string): string {
  return join(pgWalDir, 'pgkeep-spool', FRONT_PUSH_RECORD);
}

/**
 * Write (replace) the record of this pg_wal, dated `resolvedAt`. Best effort: a record that
 * cannot be written only means the next pushes start node. Returns whether it was written.
 */
export function writeFrontPushRecord(r: FrontPushRecord, resolvedAt: Date): boolean {
  const text = formatFrontPushRecord(r);
  const path = frontPushRecordPath(r.pgWalDir);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    if (text === undefined) {
      rmSync(path, { force: true });
      return false;
    }
    mkdirSync(join(r.pgWalDir, 'pgkeep-spool'), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, text, { mode: 0o600 });
    utimesSync(tmp, resolvedAt, resolvedAt);
    renameSync(tmp, path);
    return true;
  } catch {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // nothing to remove
    }
    return false;
  }
}

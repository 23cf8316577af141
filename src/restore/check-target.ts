/**
 * Step "check target": before anything is written, make sure the restore may go where it is
 * asked to. A non-empty data directory or tablespace location is refused unless --delta; a
 * directory in which a server runs is always refused; an interrupted earlier restore (its marker
 * is there) is reported. --delta removes what the snapshot lacks, so it only goes over what it
 * may rewrite (delta-target.ts): a data directory of the same cluster or an interrupted pgkeep
 * restore, and tablespace locations that hold a PG_<major>_<catversion> directory.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { processAlive } from '../pg/process-alive.js';
import { PgkeepError } from '../errors.js';
import { MARKER_FILE, MARKER_TEMP_FILE, readMarker, type MarkerInfo } from './marker.js';
import { checkDeltaDataDir, checkDeltaTablespace } from './delta-target.js';
import type { RestoredTablespace } from './types.js';

export interface TargetState {
  /** The data directory exists already (it is created otherwise). */
  exists: boolean;
  /** It holds files (only allowed with --delta). */
  nonEmpty: boolean;
  /** An earlier restore into it did not finish. */
  interrupted?: MarkerInfo;
}

async function entries(dir: string): Promise<string[] | undefined> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) {
      throw new PgkeepError('CONFLICT', `${dir} exists and is not a directory`, { hint: 'choose a directory to restore into' });
    }
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The pid in DIR/postmaster.pid when that process is alive. */
async function runningServerPid(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return processAlive(pid) ? pid : undefined;
}

function inside(parent: string, child: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !isAbsolute(r));
}

/** `systemIdentifier`: the snapshot's, which an existing data directory must have for --delta. */
export async function checkTarget(
  dataDir: string,
  tablespaces: RestoredTablespace[],
  delta: boolean,
  systemIdentifier: string,
): Promise<TargetState> {
  const names = await entries(dataDir);
  const pid = names ? await runningServerPid(dataDir) : undefined;
  if (pid !== undefined) {
    throw new PgkeepError('CONFLICT', `a PostgreSQL server (pid ${pid}) is running in ${dataDir}`, {
      hint: 'stop it first (pg_ctl stop -D DIR); a restore never writes under a running server',
    });
  }
  const interrupted = names?.includes(MARKER_FILE) ? await readMarker(dataDir) : undefined;
  // A marker temp file alone is a restore killed before its marker existed, before any other file.
  const nonEmpty = (names?.filter((n) => n !== MARKER_TEMP_FILE).length ?? 0) > 0;
  if (interrupted && !delta) {
    throw new PgkeepError(
      'CONFLICT',
      `a previous restore into ${dataDir} (snapshot ${interrupted.snapshot}, started ${interrupted.startedAt}) was interrupted; the directory is incomplete`,
      {
        hint: 'run the restore again with --delta to finish it (only what is missing or different is written), or remove the directory',
        details: { dataDir, interrupted },
      },
    );
  }
  if (nonEmpty && !delta) {
    throw new PgkeepError('CONFLICT', `${dataDir} is not empty`, {
      hint: 'restore into an empty or new directory, or use --delta to rewrite only what differs in an existing copy (files that are not in the backup are removed)',
      details: { dataDir },
    });
  }
  if (nonEmpty && delta && !interrupted) await checkDeltaDataDir(dataDir, systemIdentifier);
  for (const t of tablespaces) {
    if (inside(dataDir, t.to)) {
      throw new PgkeepError('USAGE', `tablespace ${t.oid} would be restored inside the data directory (${t.to})`, {
        hint: 'map it elsewhere with --tablespace-map OLD=NEW',
      });
    }
    const there = await entries(t.to);
    if (there && there.length > 0 && !delta) {
      throw new PgkeepError('CONFLICT', `the location of tablespace ${t.oid}, ${t.to}, is not empty`, {
        hint:
          t.to === t.from
            ? `it is the location recorded in the backup (maybe the source's own tablespace): restore it elsewhere with --tablespace-map ${t.from}=NEW_DIR`
            : 'choose an empty directory for it, or use --delta',
        details: { oid: t.oid, location: t.to },
      });
    }
    if (there && there.length > 0) checkDeltaTablespace(t, there);
  }
  return { exists: names !== undefined, nonEmpty, ...(interrupted ? { interrupted } : {}) };
}

/**
 * Locating PostgreSQL binaries (initdb, pg_ctl, postgres, pg_controldata, psql...).
 * Order: an explicit directory (option or PGKEEP_PG_BIN), then `pg_config --bindir`, then
 * /usr/lib/postgresql/<major>/bin, newest major first.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PgkeepError } from '../errors.js';

const execFileP = promisify(execFile);

export interface PgBinDir {
  /** Directory holding the binaries. */
  binDir: string;
  /** Major version of the binaries (e.g. 15). */
  major: number;
  /** Full version as printed by the tool, e.g. "15.14". */
  version: string;
}

export interface FindPgBinOptions {
  /** Directory to use (wins over PGKEEP_PG_BIN and the search). */
  pgBin?: string;
  /** Only accept binaries of this major version. */
  major?: number;
  /** Binaries that must exist in the directory (default: initdb, pg_ctl, postgres). */
  need?: string[];
  /** Environment to read PGKEEP_PG_BIN from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const DEBIAN_ROOT = '/usr/lib/postgresql';
const DEFAULT_NEED = ['initdb', 'pg_ctl', 'postgres'];

/** Path of a PostgreSQL tool inside a bin directory. */
export function pgToolPath(binDir: string, name: string): string {
  return join(binDir, name);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Parse "postgres (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)" or "pg_ctl (PostgreSQL) 17beta1". */
export function parseToolVersion(text: string): { major: number; version: string } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?([a-z]+\d*)?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  const version = m[2] !== undefined ? `${m[1]}.${m[2]}` : `${m[1]}${m[3] ?? ''}`;
  return { major, version };
}

/** Version of the tools in `binDir` (asks the first tool of `need` that exists). */
export async function pgBinVersion(binDir: string, tool = 'pg_ctl'): Promise<{ major: number; version: string }> {
  const { stdout } = await execFileP(pgToolPath(binDir, tool), ['--version'], { timeout: 15000 });
  const v = parseToolVersion(stdout);
  if (!v) throw new PgkeepError('TOOL_MISSING', `cannot tell the version of ${pgToolPath(binDir, tool)} from "${stdout.trim()}"`);
  return v;
}

async function pgConfigBinDir(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP('pg_config', ['--bindir'], { timeout: 15000 });
    const dir = stdout.trim();
    return dir || undefined;
  } catch {
    return undefined;
  }
}

function debianBinDirs(): string[] {
  let names: string[];
  try {
    names = readdirSync(DEBIAN_ROOT);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^\d+(\.\d+)?$/.test(n))
    .sort((a, b) => Number(b) - Number(a))
    .map((n) => join(DEBIAN_ROOT, n, 'bin'));
}

const cache = new Map<string, Promise<PgBinDir>>();

/**
 * Find a directory with the PostgreSQL binaries. Throws TOOL_MISSING (with an install hint)
 * when none fits.
 */
export function findPgBinDir(opts: FindPgBinOptions = {}): Promise<PgBinDir> {
  const env = opts.env ?? process.env;
  const explicit = opts.pgBin ?? env.PGKEEP_PG_BIN;
  const need = opts.need ?? DEFAULT_NEED;
  const key = JSON.stringify([explicit, opts.major, need]);
  let found = cache.get(key);
  if (!found) {
    found = search(explicit, opts.pgBin ? 'the pg_bin setting' : 'PGKEEP_PG_BIN', opts.major, need);
    cache.set(key, found);
    found.catch(() => cache.delete(key));
  }
  return found;
}

async function search(explicit: string | undefined, from: string, major: number | undefined, need: string[]): Promise<PgBinDir> {
  const missing = (dir: string) => need.filter((t) => !isExecutable(pgToolPath(dir, t)));
  if (explicit) {
    const lack = missing(explicit);
    if (lack.length) {
      throw new PgkeepError('TOOL_MISSING', `${explicit} (from ${from}) has no ${lack.join(', ')}`, {
        hint: `point ${from} at the directory holding the PostgreSQL binaries (e.g. /usr/lib/postgresql/15/bin)`,
      });
    }
    const v = await pgBinVersion(explicit, need[0] ?? 'pg_ctl');
    if (major !== undefined && v.major !== major) {
      throw new PgkeepError('TOOL_MISSING', `${explicit} (from ${from}) holds PostgreSQL ${v.version}, but major ${major} is needed`, {
        hint: `point ${from} at the PostgreSQL ${major} binaries, e.g. /usr/lib/postgresql/${major}/bin`,
      });
    }
    return { binDir: explicit, ...v };
  }

  const candidates: string[] = [];
  const fromConfig = await pgConfigBinDir();
  if (fromConfig) candidates.push(fromConfig);
  for (const d of debianBinDirs()) if (!candidates.includes(d)) candidates.push(d);
  if (major !== undefined) {
    // Prefer the exact Debian directory for the asked major.
    const exact = join(DEBIAN_ROOT, String(major), 'bin');
    candidates.sort((a, b) => Number(b === exact) - Number(a === exact));
  }
  for (const dir of candidates) {
    if (missing(dir).length) continue;
    let v: { major: number; version: string };
    try {
      v = await pgBinVersion(dir, need[0] ?? 'pg_ctl');
    } catch {
      continue;
    }
    if (major !== undefined && v.major !== major) continue;
    return { binDir: dir, ...v };
  }
  const what = major !== undefined ? `PostgreSQL ${major} binaries` : 'PostgreSQL binaries';
  throw new PgkeepError('TOOL_MISSING', `cannot find ${what} (${need.join(', ')})`, {
    hint: `install them (Debian/Ubuntu: apt-get install postgresql${major !== undefined ? `-${major}` : ''}) ` +
      'or set PGKEEP_PG_BIN (or pg_bin in [cluster.NAME]) to the directory that holds them',
    details: { searched: candidates, need },
  });
}

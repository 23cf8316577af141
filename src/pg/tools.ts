/**
 * Locating PostgreSQL client tools (pg_dump, pg_restore, pg_dumpall, psql, pg_amcheck,
 * pg_verifybackup, pg_controldata...) of a major version at least N.
 *
 * Client tools must be at least as new as the server they talk to (pg_dump refuses older
 * servers' successors), so the search collects every candidate and picks the newest that is
 * new enough. Candidates: an explicit directory (option, then PGKEEP_PG_BIN), `pg_config
 * --bindir`, /usr/lib/postgresql/<major>/bin, then the directories of $PATH.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { PgkeepError } from '../errors.js';
import { parseToolVersion, pgToolPath } from './bin.js';

const execFileP = promisify(execFile);
const DEBIAN_ROOT = '/usr/lib/postgresql';

export interface PgTool {
  /** Absolute path of the executable. */
  path: string;
  major: number;
  /** Version as printed by `--version`, e.g. "15.18". */
  version: string;
}

export interface FindPgToolOptions {
  /** Oldest acceptable major version (default: any). */
  minMajor?: number;
  /** Only accept exactly this major (pg_controldata must match the data directory's version). */
  exactMajor?: number;
  /** Directory to look in first (the cluster's pg_bin setting). */
  pgBin?: string;
  /** Environment for PGKEEP_PG_BIN and PATH (default process.env). */
  env?: NodeJS.ProcessEnv;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function pgConfigBinDir(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileP('pg_config', ['--bindir'], { timeout: 15000 });
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

function debianBinDirs(): string[] {
  try {
    return readdirSync(DEBIAN_ROOT)
      .filter((n) => /^\d+(\.\d+)?$/.test(n))
      .sort((a, b) => Number(b) - Number(a))
      .map((n) => join(DEBIAN_ROOT, n, 'bin'));
  } catch {
    return [];
  }
}

/** The directories searched, in order of preference (explicit ones first), without duplicates. */
export async function toolSearchDirs(opts: FindPgToolOptions = {}): Promise<{ explicit: string[]; others: string[] }> {
  const env = opts.env ?? process.env;
  const explicit = [opts.pgBin, env.PGKEEP_PG_BIN].filter((d): d is string => Boolean(d));
  const others: string[] = [];
  const add = (d: string | undefined) => {
    if (d && !explicit.includes(d) && !others.includes(d)) others.push(d);
  };
  add(await pgConfigBinDir());
  for (const d of debianBinDirs()) add(d);
  for (const d of (env.PATH ?? '').split(delimiter)) add(d);
  return { explicit: [...new Set(explicit)], others };
}

/** Run `<path> --version` and parse it; undefined when it does not run or does not say. */
export async function toolVersion(path: string): Promise<{ major: number; version: string } | undefined> {
  try {
    const { stdout } = await execFileP(path, ['--version'], { timeout: 15000 });
    return parseToolVersion(stdout);
  } catch {
    return undefined;
  }
}

/** Pick from probed candidates: an explicit one if it fits, else the newest that fits. Pure. */
export function chooseTool(
  explicit: PgTool[], others: PgTool[], opts: { minMajor?: number; exactMajor?: number },
): PgTool | undefined {
  const fits = (t: PgTool) => (opts.exactMajor === undefined || t.major === opts.exactMajor)
    && (opts.minMajor === undefined || t.major >= opts.minMajor);
  const first = explicit.find(fits);
  if (first) return first;
  return [...others].filter(fits).sort((a, b) => b.major - a.major)[0];
}

/**
 * Find `name` with a major version that fits. Throws TOOL_MISSING saying what was found and
 * which package to install.
 */
export async function findPgTool(name: string, opts: FindPgToolOptions = {}): Promise<PgTool> {
  const dirs = await toolSearchDirs(opts);
  const probe = async (list: string[]): Promise<PgTool[]> => {
    const out: PgTool[] = [];
    for (const dir of list) {
      const path = pgToolPath(dir, name);
      if (!isExecutable(path)) continue;
      const v = await toolVersion(path);
      if (v && !out.some((t) => t.path === path)) out.push({ path, ...v });
    }
    return out;
  };
  const explicit = await probe(dirs.explicit);
  const wanted = { minMajor: opts.minMajor, exactMajor: opts.exactMajor };
  let chosen = chooseTool(explicit, [], wanted);
  if (chosen) return chosen;
  const others = await probe(dirs.others);
  chosen = chooseTool(explicit, others, wanted);
  if (chosen) return chosen;

  const found = [...explicit, ...others];
  const need = opts.exactMajor !== undefined ? `major ${opts.exactMajor}`
    : opts.minMajor !== undefined ? `major ${opts.minMajor} or newer` : 'any version';
  const major = opts.exactMajor ?? opts.minMajor;
  const seen = found.length
    ? `found only ${found.map((t) => `${t.path} (${t.version})`).join(', ')}`
    : 'found none';
  throw new PgkeepError('TOOL_MISSING', `${name} of ${need} is needed; ${seen}`, {
    hint: `install postgresql-client${major !== undefined ? `-${major}` : ''} (Debian/Ubuntu, from apt.postgresql.org for ` +
      'versions your distribution lacks) or set pg_bin in [cluster.NAME] / PGKEEP_PG_BIN to a directory that has it',
    details: { tool: name, minMajor: opts.minMajor, exactMajor: opts.exactMajor, found, searched: [...dirs.explicit, ...dirs.others] },
  });
}

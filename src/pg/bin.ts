/**
 * The one locator of PostgreSQL programs: server binaries for throwaway clusters (initdb, pg_ctl,
 * postgres) and client tools (pg_dump, pg_restore, psql, pg_controldata, pg_verifybackup...).
 *
 * One search order: the explicit directory (option, i.e. a cluster's pg_bin), PGKEEP_PG_BIN,
 * `pg_config --bindir`, /usr/lib/postgresql/<major>/bin (newest first), the server binaries
 * installed from npm (embedded-bin.ts), then $PATH. PGKEEP_PG_SYSTEM_DIRS, when set, stands for
 * the system's part (pg_config, /usr/lib/postgresql, $PATH). One version parser (`--version`), one cache
 * (a program's version is asked once per process).
 *
 * One choice rule (chooseTool): an explicit directory whose program fits the version wanted wins;
 * otherwise, with a minimum major, the newest that fits (pg_dump must be at least the server's
 * major); otherwise the first that fits in search order (so the system's PostgreSQL stays the
 * default over the npm binaries). Server binaries are stricter about the `pgBin` option: the
 * directory a cluster names is the one that must run it, so a wrong one is an error, not skipped.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { PgkeepError } from '../errors.js';
import { embeddedBinDirs } from './embedded-bin.js';

const execFileP = promisify(execFile);
const DEBIAN_ROOT = '/usr/lib/postgresql';
const SERVER_BINARIES = ['initdb', 'pg_ctl', 'postgres'];

export interface PgVersion {
  major: number;
  /** Version as printed by `--version`, e.g. "15.14", "18beta1". */
  version: string;
}

export interface PgTool extends PgVersion {
  /** Absolute path of the executable. */
  path: string;
}

export interface PgBinDir extends PgVersion {
  /** Directory holding the binaries. */
  binDir: string;
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

export interface FindPgBinOptions {
  /** Directory to use (the cluster's pg_bin): it must hold the binaries, of `major` if given. */
  pgBin?: string;
  /** Only accept binaries of this major version. */
  major?: number;
  /** Binaries that must exist in the directory (default: initdb, pg_ctl, postgres). */
  need?: string[];
  /** Environment to read PGKEEP_PG_BIN and PATH from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

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
export function parseToolVersion(text: string): PgVersion | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?([a-z]+\d*)?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  const version = m[2] !== undefined ? `${m[1]}.${m[2]}` : `${m[1]}${m[3] ?? ''}`;
  return { major, version };
}

const versions = new Map<string, Promise<PgVersion | undefined>>();

/** `<path> --version`, parsed; undefined when it does not run or does not say. Cached per path. */
export function toolVersion(path: string): Promise<PgVersion | undefined> {
  let v = versions.get(path);
  if (!v) {
    v = execFileP(path, ['--version'], { timeout: 15000 }).then(
      ({ stdout }) => parseToolVersion(stdout),
      () => undefined,
    );
    versions.set(path, v);
  }
  return v;
}

/** Version of the tools in `binDir` (asks `tool`); TOOL_MISSING when it cannot tell. */
export async function pgBinVersion(binDir: string, tool = 'pg_ctl'): Promise<PgVersion> {
  const v = await toolVersion(pgToolPath(binDir, tool));
  if (!v)
    throw new PgkeepError('TOOL_MISSING', `cannot run ${pgToolPath(binDir, tool)} --version, or it does not name a PostgreSQL version`);
  return v;
}

let pgConfigDir: Promise<string | undefined> | undefined;

function pgConfigBinDir(): Promise<string | undefined> {
  pgConfigDir ??= execFileP('pg_config', ['--bindir'], { timeout: 15000 }).then(
    ({ stdout }) => stdout.trim() || undefined,
    () => undefined,
  );
  return pgConfigDir;
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

/** The directories searched, in order (explicit ones first), without duplicates. */
export async function toolSearchDirs(
  opts: { pgBin?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ explicit: string[]; others: string[] }> {
  const env = opts.env ?? process.env;
  const explicit = [...new Set([opts.pgBin, env.PGKEEP_PG_BIN].filter((d): d is string => Boolean(d)))];
  const others: string[] = [];
  const add = (d: string | undefined) => {
    if (d && !explicit.includes(d) && !others.includes(d)) others.push(d);
  };
  // PGKEEP_PG_SYSTEM_DIRS (a PATH-like list) replaces the search of the system's PostgreSQL
  // (pg_config, /usr/lib/postgresql, $PATH): an empty directory hides it, as on a machine without it.
  const systemDirs = env.PGKEEP_PG_SYSTEM_DIRS ?? process.env.PGKEEP_PG_SYSTEM_DIRS;
  if (systemDirs !== undefined) for (const d of systemDirs.split(delimiter)) add(d);
  else {
    add(await pgConfigBinDir());
    for (const d of debianBinDirs()) add(d);
  }
  // PGKEEP_PG_EMBEDDED=off: only PostgreSQL installed on the system (read from the process too when `env` is given).
  if ((env.PGKEEP_PG_EMBEDDED ?? process.env.PGKEEP_PG_EMBEDDED) !== 'off') {
    for (const d of embeddedBinDirs()) if (!d.problem) add(d.binDir);
  }
  if (systemDirs === undefined) for (const d of (env.PATH ?? '').split(delimiter)) add(d);
  return { explicit, others };
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Pick from probed candidates (in search order), by the rule in this file's header. Pure. */
export function chooseTool<T extends PgVersion>(
  explicit: T[],
  others: T[],
  opts: { minMajor?: number; exactMajor?: number },
): T | undefined {
  const fits = (t: T) =>
    (opts.exactMajor === undefined || t.major === opts.exactMajor) && (opts.minMajor === undefined || t.major >= opts.minMajor);
  const first = explicit.find(fits);
  if (first) return first;
  const fitting = others.filter(fits);
  if (opts.minMajor === undefined) return fitting[0];
  return fitting.sort((a, b) => b.major - a.major)[0];
}

/**
 * The directories of `dirs` holding every program of `names`, with their version (asked of
 * names[0]); with `enough`, the search stops at the first directory it accepts.
 */
async function probe(dirs: string[], names: string[], enough?: (d: PgBinDir) => boolean): Promise<PgBinDir[]> {
  const out: PgBinDir[] = [];
  const seen = new Set<string>();
  for (const binDir of dirs) {
    if (!names.every((n) => isExecutable(pgToolPath(binDir, n)))) continue;
    // /bin and /usr/bin on a merged-/usr system are one directory: list each program once.
    const real = realPath(pgToolPath(binDir, names[0]!));
    if (seen.has(real)) continue;
    seen.add(real);
    const v = await toolVersion(pgToolPath(binDir, names[0]!));
    if (v) out.push({ binDir, ...v });
    if (v && enough?.(out[out.length - 1]!)) break;
  }
  return out;
}

/**
 * Find `name` with a major version that fits. Throws TOOL_MISSING saying what was found and
 * which package to install.
 */
export async function findPgTool(name: string, opts: FindPgToolOptions = {}): Promise<PgTool> {
  const dirs = await toolSearchDirs(opts);
  const wanted = { minMajor: opts.minMajor, exactMajor: opts.exactMajor };
  const explicit = await probe(dirs.explicit, [name]);
  const others = chooseTool(explicit, [], wanted) ? [] : await probe(dirs.others, [name]);
  const chosen = chooseTool(explicit, others, wanted);
  if (chosen) return { path: pgToolPath(chosen.binDir, name), major: chosen.major, version: chosen.version };

  const found = [...explicit, ...others].map((d) => ({ path: pgToolPath(d.binDir, name), major: d.major, version: d.version }));
  const need =
    opts.exactMajor !== undefined
      ? `major ${opts.exactMajor}`
      : opts.minMajor !== undefined
        ? `major ${opts.minMajor} or newer`
        : 'any version';
  const major = opts.exactMajor ?? opts.minMajor;
  const seen = found.length ? `found only ${found.map((t) => `${t.path} (${t.version})`).join(', ')}` : 'found none';
  throw new PgkeepError('TOOL_MISSING', `${name} of ${need} is needed; ${seen}`, {
    hint:
      `install postgresql-client${major !== undefined ? `-${major}` : ''} (Debian/Ubuntu, from apt.postgresql.org for ` +
      'versions your distribution lacks) or set pg_bin in [cluster.NAME] / PGKEEP_PG_BIN to a directory that has it',
    details: { tool: name, minMajor: opts.minMajor, exactMajor: opts.exactMajor, found, searched: [...dirs.explicit, ...dirs.others] },
  });
}

/**
 * Find a directory with the PostgreSQL server binaries (of `major` if given). PGKEEP_PG_BIN is
 * used when it fits and passed over when it holds another major than the one asked; the `pgBin`
 * option is not passed over. Throws TOOL_MISSING (with an install hint) when none fits.
 */
export async function findPgBinDir(opts: FindPgBinOptions = {}): Promise<PgBinDir> {
  const env = opts.env ?? process.env;
  const need = opts.need ?? SERVER_BINARIES;
  const named: [string, string][] = [];
  if (opts.pgBin) named.push([opts.pgBin, 'the pg_bin setting']);
  else if (env.PGKEEP_PG_BIN) named.push([env.PGKEEP_PG_BIN, 'PGKEEP_PG_BIN']);
  for (const [dir, from] of named) {
    const lack = need.filter((t) => !isExecutable(pgToolPath(dir, t)));
    if (lack.length) {
      throw new PgkeepError('TOOL_MISSING', `${dir} (from ${from}) has no ${lack.join(', ')}`, {
        hint: `point ${from} at the directory holding the PostgreSQL binaries (e.g. /usr/lib/postgresql/${opts.major ?? 15}/bin)`,
      });
    }
    const v = await pgBinVersion(dir, need[0]);
    if (opts.major === undefined || v.major === opts.major) return { binDir: dir, ...v };
    if (from !== 'PGKEEP_PG_BIN') {
      throw new PgkeepError('TOOL_MISSING', `${dir} (from ${from}) holds PostgreSQL ${v.version}, but major ${opts.major} is needed`, {
        hint: `point ${from} at the PostgreSQL ${opts.major} binaries, e.g. /usr/lib/postgresql/${opts.major}/bin`,
      });
    }
  }
  const dirs = await toolSearchDirs({ env: { ...env, PGKEEP_PG_BIN: undefined } });
  // chooseTool takes the first that fits in search order: the directories after it need no `--version` run
  // (each is a process; a restore looks pg_ctl up while it writes, and a host may have many majors)
  const found = await probe(dirs.others, need, (d) => opts.major === undefined || d.major === opts.major);
  const chosen = chooseTool([], found, { exactMajor: opts.major });
  if (chosen) return chosen;
  const what = opts.major !== undefined ? `PostgreSQL ${opts.major} binaries` : 'PostgreSQL binaries';
  const seen = found.length ? `; found only ${found.map((d) => `${d.binDir} (${d.version})`).join(', ')}` : '';
  const unusable = embeddedBinDirs().filter((d) => d.problem && (opts.major === undefined || d.major === opts.major));
  const why = unusable.map((d) => `; ${d.binDir} is unusable: ${d.problem}`).join('');
  throw new PgkeepError('TOOL_MISSING', `cannot find ${what} (${need.join(', ')})${seen}${why}`, {
    hint:
      `install them (Debian/Ubuntu: apt-get install postgresql${opts.major !== undefined ? `-${opts.major}` : ''}) ` +
      'or set PGKEEP_PG_BIN (or pg_bin in [cluster.NAME]) to the directory that holds them',
    details: { searched: [...named.map(([d]) => d), ...dirs.others], need },
  });
}

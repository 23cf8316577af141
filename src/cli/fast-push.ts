/**
 * The short way through `pgkeep wal push %p` with [archive] async on, in node: when the file is
 * acknowledged in the spool, nothing else is needed, so bin/pgkeep.js asks here before it loads
 * the command line (commander, the command modules). Anything unusual — another command, an
 * option this parser does not know, --json, a config that does not load, async off, no
 * acknowledgement — answers false and the full CLI runs as always (and reports any error).
 *
 * Both this path and the full asynchronous push leave the front record (wal/async-push/
 * front-record.ts) with which the sh front (bin/pgkeep) answers the next acknowledged pushes
 * without starting node at all.
 */
import { statSync } from 'node:fs';
import { defaultConfigPaths, loadConfig } from '../config/load.js';
import type { GlobalFlags } from '../config/types.js';
import { isAcknowledged, type PushSpoolPlace, pushSpoolPlace } from '../wal/async-push/acks.js';
import { type FrontPushRecord, writeFrontPushRecord } from '../wal/async-push/front-record.js';

const VALUE_FLAGS: Record<string, Exclude<keyof GlobalFlags, 'json'>> = {
  '--config': 'config',
  '--cluster': 'cluster',
  '--repo': 'repo',
  '--pgdata': 'pgdata',
  '-d': 'connection',
  '--connection': 'connection',
  '--passphrase-file': 'passphraseFile',
  '--log-level': 'logLevel',
};

interface ResolvedPush {
  place: PushSpoolPlace;
  record: FrontPushRecord;
}

/** `wal push PATH` with async on and a repository path: where its acknowledgement is, and the front record saying why. */
function resolvePush(argv: string[], env: NodeJS.ProcessEnv = process.env): ResolvedPush | undefined {
  const args = argv.slice(2);
  const flags: GlobalFlags = {};
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const [name, inline] = args[i]!.split(/=(.*)/s, 2);
    const key = VALUE_FLAGS[name!];
    if (!key) return undefined;
    const value = inline ?? args[++i];
    if (!value) return undefined;
    flags[key] = value;
  }
  if (args[i] !== 'wal' || args[i + 1] !== 'push' || args.length !== i + 3 || args[i + 2]!.startsWith('-')) return undefined;
  // Every variable the resolution reads (set or not) goes into the record.
  const read = new Map<string, string | undefined>();
  const seen = (k: string | symbol) => {
    if (typeof k === 'string' && !read.has(k)) read.set(k, env[k]);
  };
  const recording = new Proxy(env, {
    get: (t, k) => (seen(k), Reflect.get(t, k)),
    has: (t, k) => (seen(k), Reflect.has(t, k)),
  });
  try {
    const c = loadConfig(flags, recording);
    if (!c.archive.async || !c.repo.path) return undefined;
    const cwd = process.cwd();
    const place = pushSpoolPlace({
      path: args[i + 2]!,
      cwd,
      pgdata: c.cluster.pgdata,
      cluster: c.clusterName,
      repoPath: c.repo.path,
      spoolPath: c.archive.spoolPath,
    });
    const explicit = flags.config ?? env.PGKEEP_CONFIG;
    const candidates = explicit ? [] : defaultConfigPaths(recording);
    const absent = c.file ? candidates.slice(0, candidates.indexOf(c.file)) : candidates;
    const record: FrontPushRecord = {
      cwd,
      pgWalDir: place.pgWalDir,
      args: args.slice(0, i + 2),
      env: [...read.entries()].sort(([a], [b]) => a.localeCompare(b)),
      ...(c.file ? { config: c.file } : {}),
      absent,
      spoolDir: place.spoolDir,
    };
    return { place, record };
  } catch {
    return undefined;
  }
}

/** True when argv is `wal push PATH` of a file the background pusher acknowledged (the front record is refreshed). */
export function acknowledgedPush(argv: string[]): boolean {
  const r = resolvePush(argv);
  if (!r || !isAcknowledged(r.place.spoolDir, r.place.file)) return false;
  recordFrontPush(r);
  return true;
}

/**
 * After an asynchronous `wal push` of this command line: leave the front record, unless this is
 * root pushing from a pg_wal that belongs to the server's OS user (nothing of root's goes there).
 */
export function frontPushRecord(argv: string[]): void {
  const r = resolvePush(argv);
  if (r) recordFrontPush(r);
}

function recordFrontPush(r: ResolvedPush): void {
  if (process.getuid?.() === 0 && ownerOf(r.place.pgWalDir) !== 0) return;
  // Dated when this process started, before it read any config file: one changed since is newer.
  writeFrontPushRecord(r.record, new Date(performance.timeOrigin - 1));
}

function ownerOf(path: string): number | undefined {
  try {
    return statSync(path).uid;
  } catch {
    return undefined;
  }
}

/**
 * The short way through `pgkeep wal push %p` with [archive] async on: when the file is
 * acknowledged in the spool, nothing else is needed, so bin/pgkeep.js asks here before it loads
 * the command line (commander, the command modules). Anything unusual — another command, an
 * option this parser does not know, --json, a config that does not load, async off, no
 * acknowledgement — answers false and the full CLI runs as always (and reports any error).
 */
import { loadConfig } from '../config/load.js';
import type { GlobalFlags } from '../config/types.js';
import { isAcknowledged, pushSpoolPlace } from '../wal/async-push/acks.js';

const VALUE_FLAGS: Record<string, keyof GlobalFlags> = {
  '--config': 'config',
  '--cluster': 'cluster',
  '--repo': 'repo',
  '--pgdata': 'pgdata',
  '-d': 'connection',
  '--connection': 'connection',
  '--passphrase-file': 'passphraseFile',
  '--log-level': 'logLevel',
};

/** True when argv is `wal push PATH` of a file the background pusher acknowledged. */
export function acknowledgedPush(argv: string[]): boolean {
  const args = argv.slice(2);
  const flags: GlobalFlags = {};
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const [name, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const key = VALUE_FLAGS[name];
    if (!key) return false;
    const value = inline ?? args[++i];
    if (!value) return false;
    (flags as Record<string, string>)[key] = value;
  }
  if (args[i] !== 'wal' || args[i + 1] !== 'push' || args.length !== i + 3 || args[i + 2]!.startsWith('-')) return false;
  try {
    const c = loadConfig(flags);
    if (!c.archive.async || !c.repo.path) return false;
    const place = pushSpoolPlace({
      path: args[i + 2]!,
      cwd: process.cwd(),
      pgdata: c.cluster.pgdata,
      cluster: c.clusterName,
      repoPath: c.repo.path,
      spoolPath: c.archive.spoolPath,
    });
    return isAcknowledged(place.spoolDir, place.file);
  } catch {
    return false;
  }
}

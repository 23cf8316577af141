/**
 * Step "start" (--start): the restored cluster started on this host and waited for until it
 * accepts connections — for a hot backup, that is once recovery has made it consistent.
 *
 * The restored configuration is the source's: its port, socket directory and listen addresses
 * would collide with the source (or point at directories this host lacks). The local-cluster
 * manager sets its own in an include file read after postgresql.conf; postgresql.auto.conf
 * (ALTER SYSTEM) would still win, so such lines there are commented out.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalCluster } from '../pg/local-cluster.js';
import { pgToolPath } from '../pg/bin.js';
import { serverOsUser } from '../pg/server-user.js';
import { quoteConnValue } from '../config/conninfo.js';
import type { StartedInfo } from './types.js';
import { shellQuote } from '../shell-quote.js';

const PLACEMENT = /^\s*(port|unix_socket_directories|listen_addresses)\s*(=|\s)/i;

/** postgresql.auto.conf text with the source's placement settings commented out. Pure. */
export function disablePlacementSettings(text: string): string {
  return text
    .split('\n')
    .map((l) => (PLACEMENT.test(l) ? `# disabled by pgkeep restore --start: ${l}` : l))
    .join('\n');
}

/** `listen`: TCP addresses (default "": none, the private unix socket only; see pg/restored-hba.ts). */
export async function startRestored(
  dataDir: string,
  opts: { port?: number; wait?: boolean; listen?: string; pgBin?: string } = {},
): Promise<{ cluster: LocalCluster; info: StartedInfo }> {
  const auto = join(dataDir, 'postgresql.auto.conf');
  if (existsSync(auto)) {
    const text = await readFile(auto, 'utf8');
    const fixed = disablePlacementSettings(text);
    if (fixed !== text) await writeFile(auto, fixed);
  }
  // Loaded here: the local-cluster manager brings the pg client library (about 60 modules, ~40 ms
  // of CPU at start-up), which a restore without --start never uses.
  const { LocalCluster } = await import('../pg/local-cluster.js');
  const cluster = await LocalCluster.attach(dataDir, { port: opts.port, listen: opts.listen ?? '', pgBin: opts.pgBin });
  try {
    await cluster.start({ wait: opts.wait });
  } catch (e) {
    await cluster.destroy();
    throw e;
  }
  const pgCtl = `${shellQuote(pgToolPath(cluster.binDir, 'pg_ctl'))} stop -D ${shellQuote(dataDir)}`;
  const user = serverOsUser();
  return {
    cluster,
    info: {
      dataDir,
      port: cluster.port,
      socketDir: cluster.socketDir,
      listen: cluster.listen,
      hba: cluster.hba!,
      logFile: cluster.logFile,
      connection: `host=${quoteConnValue(cluster.socketDir)} port=${cluster.port} dbname=postgres`,
      ...(cluster.listen ? { tcpConnection: `host=${quoteConnValue(tcpHost(cluster.listen))} port=${cluster.port} dbname=postgres` } : {}),
      stopCommand: user ? `su ${user.name} -c ${shellQuote(pgCtl)}` : pgCtl,
    },
  };
}

/** A host to reach listen_addresses from this machine: the first address, or localhost for a wildcard. */
function tcpHost(listen: string): string {
  const first = listen.split(',')[0]!.trim();
  return first === '*' || first === '0.0.0.0' || first === '::' ? 'localhost' : first;
}

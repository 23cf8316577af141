import { findPgBinDir, pgToolPath, type PgBinDir } from '../bin.js';
import { ensureTraversable } from '../server-user.js';

/**
 * The server binaries, reachable by the OS user the server runs as (as root: postgres). npm's
 * binaries live in the checkout, which may sit under a 0700 /root: say so before initdb fails.
 */
export async function serverReachableBin(opts: { pgBin?: string; major?: number }): Promise<PgBinDir> {
  const bin = await findPgBinDir(opts);
  ensureTraversable(pgToolPath(bin.binDir, 'postgres'));
  return bin;
}

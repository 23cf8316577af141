/**
 * Is a server running on this data directory, even though doctor could not connect to it (peer
 * authentication as root, a wrong port, pg_hba.conf)? postmaster.pid names the postmaster, its
 * port and socket directory; a live pid plus pg_isready tell a running server from a crashed one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processAlive } from '../pg/process-alive.js';
import { findPgTool } from '../pg/bin.js';
import { runProgram } from '../pg/server-user.js';
import type { ServerProcessFacts } from './types.js';

export async function serverProcessFacts(dataDir: string, pgBin?: string): Promise<ServerProcessFacts> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return { pidFile: false, alive: false };
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  // A stale postmaster.pid (crash, then reboot) can name a pid some other program has now.
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid) || !(await isPostgres(pid))) {
    return { pidFile: true, alive: false, ...(pid > 0 ? { pid } : {}) };
  }
  return { pidFile: true, alive: true, pid, isReady: await pgIsReady(lines[4]?.trim() || lines[5]?.trim(), lines[3]?.trim(), pgBin) };
}

/** Is that process a PostgreSQL server? (/proc; where there is no /proc, assume it is.) */
async function isPostgres(pid: number): Promise<boolean> {
  try {
    const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
    return /^(postgres|postmaster)/.test(comm);
  } catch (e) {
    return (
      (e as NodeJS.ErrnoException).code !== 'ENOENT' ||
      !(await readFile('/proc/self/comm', 'utf8').then(
        () => true,
        () => false,
      ))
    );
  }
}

/** pg_isready's exit code: 0 accepting, 1 rejecting (starting up, shutting down), 2 no response. */
async function pgIsReady(host: string | undefined, port: string | undefined, pgBin?: string): Promise<ServerProcessFacts['isReady']> {
  if (!host || !port) return 'unknown';
  try {
    const tool = await findPgTool('pg_isready', { pgBin });
    const r = await runProgram(tool.path, ['-q', '-h', host === '*' ? '127.0.0.1' : host, '-p', port, '-t', '5'], { asServerUser: false });
    return r.code === 0 ? 'accepting' : r.code === 1 ? 'rejecting' : r.code === 2 ? 'no response' : 'unknown';
  } catch {
    return 'unknown';
  }
}

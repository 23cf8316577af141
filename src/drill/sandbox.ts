/**
 * The drill's sandbox: restore-table's (logical/restore-table/sandbox.ts: a private temp
 * directory, archive_mode off, no TCP, a socket only its OS user may open, nothing that reaches
 * outside), created only when the host has room for it: the backup's logical size plus the WAL
 * recovery keeps on disk.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { humanBytes } from '../words.js';
import type { Sandbox } from '../logical/index.js';
import { parseWalFileName } from '../pg/wal-name.js';
import { processAlive } from '../pg/process-alive.js';
import type { PitrPlan } from '../restore/index.js';

/**
 * Segments of WAL counted on disk at most: restored segments are removed as recovery goes (with
 * restore_command's prefetch window and the server's own max_wal_size, 1 GB by default, around them).
 */
export const WAL_SEGMENTS_ON_DISK = 64;

export interface SandboxNeed {
  bytes: number;
  backupBytes: number;
  walBytes: number;
}

/** What the sandbox needs on disk: the backup's files plus the WAL to replay (at most WAL_SEGMENTS_ON_DISK segments). */
export function sandboxNeed(backupBytes: number, plan: PitrPlan, segmentSize: number): SandboxNeed {
  const first = plan.wal.fromArchive?.first ?? plan.wal.fromBackup?.first;
  const segments = first ? Math.max(1, segmentNumber(plan.wal.upTo.segment) - segmentNumber(first) + 1) : 1;
  const walBytes = Math.min(segments, WAL_SEGMENTS_ON_DISK) * segmentSize;
  return { bytes: backupBytes + walBytes, backupBytes, walBytes };
}

function segmentNumber(name: string): number {
  const w = parseWalFileName(name);
  return (w.log ?? 0) * 0x100000000 + (w.seg ?? 0);
}

/** A new private sandbox directory under `parent`, refused (CONFLICT) when its file system lacks `need`. */
export async function createDrillSandbox(parent: string | undefined, need: SandboxNeed, binDir: string): Promise<Sandbox> {
  const base = parent ?? tmpdir();
  let free: number;
  try {
    const s = statfsSync(base);
    free = s.bavail * s.bsize;
  } catch (e) {
    throw new PgkeepError('CONFLICT', `cannot use ${base} for the drill's sandbox: ${(e as Error).message}`, {
      hint: 'give an existing directory with --sandbox-dir',
    });
  }
  if (free < need.bytes) {
    throw new PgkeepError(
      'CONFLICT',
      `not enough disk for the drill's sandbox in ${base}: it needs ${humanBytes(need.bytes)} ` +
        `(the backup's ${humanBytes(need.backupBytes)} and ${humanBytes(need.walBytes)} of WAL), ${humanBytes(free)} are free`,
      {
        hint: 'free space there, or put the sandbox on a larger file system with --sandbox-dir DIR',
        details: { dir: base, neededBytes: need.bytes, freeBytes: free },
      },
    );
  }
  const dir = await mkdtemp(join(base, 'pgkeep-drill-')); // 0700
  return { dir, dataDir: join(dir, 'data'), binDir };
}

/**
 * A sandbox server that outlived its drill (interrupted while it was starting, before the drill
 * held it): stopped through its postmaster.pid — SIGQUIT (immediate shutdown), then SIGKILL after
 * `graceMs`. Returns what it did, for the warnings; never throws.
 */
export async function killLeftoverServer(dataDir: string, graceMs = 10_000): Promise<string | undefined> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
  try {
    process.kill(pid, 'SIGQUIT');
    for (const t0 = Date.now(); Date.now() - t0 < graceMs; ) {
      if (!processAlive(pid)) return `stopped the sandbox's server (pid ${pid}) with SIGQUIT`;
      await new Promise((r) => setTimeout(r, 100));
    }
    process.kill(pid, 'SIGKILL');
    return `killed the sandbox's server (pid ${pid}): it did not stop within ${graceMs / 1000} s of SIGQUIT`;
  } catch (e) {
    return `could not stop the sandbox's server (pid ${pid}): ${(e as Error).message}`;
  }
}

/**
 * The fast path of `wal get --prefetch N %f %p` as `pgkeep restore` writes it: when the segment
 * is in the spool and a prefetcher keeps it filled, serve it (checked, renamed) without loading
 * the command line, the configuration or the repository — recovery pays node's start-up and a
 * rename. Anything else (another command line, a spool miss, no prefetcher running, no spool
 * filled from this repository and cluster) returns undefined and the full `wal get` runs, which
 * reads the repository, restarts the prefetcher and reports errors.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isWalFileName } from '../pg/wal-name.js';
import { systemIdFromPgControl } from '../pg/wal/identify.js';
import { defaultSpoolRoot, pruneSpool, takeFromSpool } from '../wal/spool.js';
import { awaitInflight, prefetcherRunning, recordServed, SOURCE_FILE, spoolSource } from '../wal/prefetch.js';
import { EXIT } from '../errors.js';

/** Global options the restore_command may hold (each takes a value). */
const GLOBAL = new Set(['--repo', '--cluster', '--config', '--passphrase-file', '--log-level']);

/** The parts of `[globals] wal get --prefetch N [--system-id S] <name> <destination>`, or undefined for any other command line. */
export function parseFastGet(
  args: string[],
): { globals: Map<string, string>; name: string; destination: string; systemId?: string } | undefined {
  const globals = new Map<string, string>();
  let i = 0;
  for (; i < args.length && GLOBAL.has(args[i]!); i += 2) {
    if (args[i + 1] === undefined) return undefined;
    globals.set(args[i]!, args[i + 1]!);
  }
  const rest = args.slice(i);
  if (rest.length < 6 || rest[0] !== 'wal' || rest[1] !== 'get' || rest[2] !== '--prefetch' || !/^[1-9]\d*$/.test(rest[3]!))
    return undefined;
  let systemId: string | undefined;
  if (rest[4] === '--system-id') {
    systemId = rest[5];
    rest.splice(4, 2);
    if (!systemId || !/^\d+$/.test(systemId)) return undefined;
  }
  if (rest.length !== 6 || !globals.has('--repo') || !globals.has('--cluster') || !isWalFileName(rest[4]!)) return undefined;
  return { globals, name: rest[4]!, destination: rest[5]!, ...(systemId ? { systemId } : {}) };
}

/** The exit code when served from the spool, else undefined (run the full command). */
export async function fastWalGet(args: string[], cwd = process.cwd()): Promise<number | undefined> {
  const p = parseFastGet(args);
  if (!p) return undefined;
  try {
    // --system-id (what `pgkeep restore` writes) wins over the data directory's, as in the full command.
    const systemId = p.systemId ?? systemIdFromPgControl(readFileSync(join(cwd, 'global', 'pg_control')).subarray(0, 8));
    const root = defaultSpoolRoot(cwd);
    const cluster = p.globals.get('--cluster')!;
    const source = spoolSource(p.globals.get('--repo')!, cluster);
    const dir = readdirSync(root)
      .map((d) => join(root, d))
      .find((d) => d.endsWith(`-${cluster}-${systemId}`) && readSource(d) === source);
    if (!dir || !(await prefetcherRunning(dir))) return undefined;
    await pruneSpool(dir, p.name);
    await awaitInflight(dir, p.name);
    const taken = await takeFromSpool(dir, p.name, systemId, resolve(cwd, p.destination), () => recordServed(dir, p.name));
    if (!taken.served) {
      if (taken.rejected) process.stderr.write(`pgkeep: warn: ${taken.rejected}: deleted it; reading ${p.name} from the repository\n`);
      return undefined;
    }
    if ((p.globals.get('--log-level') ?? process.env.PGKEEP_LOG_LEVEL) === 'debug')
      process.stderr.write(`pgkeep: debug: restored ${p.name} from the spool (fast path)\n`);
    return EXIT.OK;
  } catch {
    return undefined; // whatever failed here, the full command does it again and reports it
  }
}

function readSource(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, SOURCE_FILE), 'utf8');
  } catch {
    return undefined;
  }
}

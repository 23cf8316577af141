/**
 * `wal get` (restore_command): one WAL file from the repository (or the prefetch spool) to the
 * path recovery asked for. Written to a temporary name next to the destination, then renamed, so
 * recovery never reads half a file. "Not in the archive" is a normal answer (found: false), not
 * an error; every other failure throws.
 */
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { diskFullError, PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { readClusterIdentity } from '../holdings/cluster-identity.js';
import { parseWalFileName, type WalFileKind } from '../pg/wal-name.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { readSegmentHeader } from '../pg/wal/identify.js';
import { systemIdOfDataDir } from './source-file.js';
import { pruneSpool, spoolDir, takeFromSpool } from './spool.js';
import { awaitInflight } from './prefetch.js';

export interface WalGetOptions {
  cluster: string;
  /** %f: the file recovery wants. */
  name: string;
  /** %p: where to put it (relative to cwd, the data directory, or absolute). */
  destination: string;
  cwd?: string;
  /** The configured data directory (a second place to find pg_control). */
  pgdata?: string;
  /** Read from this system's WAL (default: the data directory's, else the cluster's recorded identity). */
  systemIdentifier?: string;
  /** Root of the prefetch spool (looked in first when set); the spool itself is keyed by repository, cluster and system. */
  spoolRoot?: string;
  /** Run just before a spooled segment is served (the prefetcher's `.want` is recorded there). */
  beforeSpoolServe?: (spoolDir: string, name: string) => Promise<void>;
}

export type WalGetResult =
  | {
      found: true;
      file: string;
      kind: WalFileKind;
      bytes: number;
      source: 'repository' | 'spool';
      destination: string;
      systemIdentifier: string;
      segmentSize?: number;
      spoolDir?: string;
      /** Why the spool's copy was not served (deleted, read from the repository instead). */
      spoolRejected?: string;
    }
  | { found: false; file: string; kind: WalFileKind; systemIdentifier: string; spoolDir?: string };

type WalRepo = Pick<Repository, 'getObject' | 'location' | 'config'>;

export async function getWalFile(repo: WalRepo, opts: WalGetOptions): Promise<WalGetResult> {
  const file = parseWalFileName(opts.name);
  const cwd = opts.cwd ?? process.cwd();
  const destination = resolve(cwd, opts.destination);
  const systemIdentifier = await resolveSystemId(repo, opts, cwd);

  const spool = opts.spoolRoot ? spoolDir(opts.spoolRoot, repo.config.id, opts.cluster, systemIdentifier) : undefined;
  let spoolRejected: string | undefined;
  if (spool && file.kind === 'segment') {
    await pruneSpool(spool, file.name);
    await awaitInflight(spool, file.name);
    const before = opts.beforeSpoolServe;
    const taken = await takeFromSpool(spool, file.name, systemIdentifier, destination, before && (() => before(spool, file.name)));
    if (taken.served) {
      return {
        found: true,
        file: file.name,
        kind: file.kind,
        bytes: taken.segmentSize,
        source: 'spool',
        destination,
        systemIdentifier,
        segmentSize: taken.segmentSize,
        spoolDir: spool,
      };
    }
    spoolRejected = taken.rejected;
  }

  let data: Buffer;
  try {
    data = await repo.getObject(walObjectName(opts.cluster, systemIdentifier, file));
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'NOT_FOUND')
      return { found: false, file: file.name, kind: file.kind, systemIdentifier, spoolDir: spool };
    throw e;
  }
  const segmentSize = file.kind === 'segment' ? readSegmentHeader(data, `archived ${file.name}`).segmentSize : undefined;
  await writeAtomically(destination, data);
  return {
    found: true,
    file: file.name,
    kind: file.kind,
    bytes: data.length,
    source: 'repository',
    destination,
    systemIdentifier,
    segmentSize,
    spoolDir: spool,
    ...(spoolRejected ? { spoolRejected } : {}),
  };
}

async function resolveSystemId(repo: WalRepo, opts: WalGetOptions, cwd: string): Promise<string> {
  if (opts.systemIdentifier) return opts.systemIdentifier;
  const fromDataDir = await systemIdOfDataDir([cwd, opts.pgdata]);
  if (fromDataDir) return fromDataDir;
  const known = await readClusterIdentity(repo, opts.cluster);
  if (known) return known.systemIdentifier;
  throw new PgkeepError(
    'NOT_FOUND',
    `cluster "${opts.cluster}" has no WAL or backups in ${repo.location}, and no data directory says which system to read`,
    {
      hint: 'check --cluster and --repo in restore_command',
    },
  );
}

async function writeAtomically(destination: string, data: Uint8Array): Promise<void> {
  const tmp = join(dirname(destination), `.${basename(destination)}.pgkeep-${process.pid}`);
  try {
    const h = await open(tmp, 'w', 0o600);
    try {
      await h.writeFile(data);
    } finally {
      await h.close();
    }
    await rename(tmp, destination);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    const disk = diskFullError(e, { what: 'restore_command destination', dir: dirname(destination) });
    if (disk) throw disk;
    throw new PgkeepError('REPOSITORY', `cannot write ${destination}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: "restore_command runs as the server's OS user: it must be able to write into pg_wal",
    });
  }
}

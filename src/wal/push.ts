/**
 * `wal push` (archive_command): one WAL file into the repository, durably, exactly once.
 *
 *   read the file -> whose system is it? -> same system as the cluster's recorded identity?
 *   -> is its content what PostgreSQL writes under that name (content-check.ts: page headers,
 *   .history/.backup text)? -> store write-once (compressed, encrypted) -> if it was there already: same bytes = done,
 *   different bytes = refuse loudly and keep the first copy.
 *
 * No repository lock is taken: gc deletes only packs and rewrites manifests, never WAL objects,
 * and WAL objects are write-once, so a push cannot conflict with anything but `expire`, which
 * only deletes WAL older than every kept backup (never the segment being pushed now).
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import { checkClusterIdentity, readClusterIdentity } from '../holdings/cluster-identity.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { readWalSource, type ReadWalSourceOptions } from './source-file.js';
import { walContentProblem } from '../pg/wal/content-check.js';
import type { WalFileKind } from '../pg/wal-name.js';
import type { Codec } from '../repo/codec.js';

export interface WalPushOptions extends ReadWalSourceOptions {
  cluster: string;
  /** %p: relative to the data directory (the archiver's working directory) or absolute. */
  path: string;
  /** The codec WAL is stored with ([archive] compression); default: walCodec(the repository's). */
  codec?: Codec;
}

export interface WalPushResult {
  file: string;
  kind: WalFileKind;
  status: 'archived' | 'already-archived';
  systemIdentifier: string;
  /** Logical object name in the repository. */
  object: string;
  /** Stored key (with codec and encryption suffixes). */
  key: string;
  bytes: number;
}

export type WalRepo = Pick<Repository, 'getObject' | 'putObject' | 'location' | 'codec'>;

export async function pushWalFile(repo: WalRepo, opts: WalPushOptions): Promise<WalPushResult> {
  const src = await readWalSource(opts.path, opts);
  const systemIdentifier = await systemOf(repo, opts.cluster, src.file.name, src.systemIdentifier);
  const problem = walContentProblem(src.file, src.data, src.systemIdentifier);
  if (problem) {
    throw new PgkeepError('DATA_INTEGRITY', `${src.file.name} (${src.path}) is not archived: its content is not valid: ${problem}`, {
      hint:
        src.file.kind === 'history' || src.file.kind === 'backup'
          ? 'PostgreSQL writes this file itself; it was edited or damaged. Fix or restore it in pg_wal; the archiver retries until it is accepted'
          : 'the file in pg_wal is damaged or was overwritten; check the disk, and take a new backup once archiving continues',
      details: { file: src.file.name, path: src.path, problem },
    });
  }
  const object = walObjectName(opts.cluster, systemIdentifier, src.file);
  const codec = { codec: opts.codec ?? walCodec(repo.codec) };
  const { created, key } = await repo.putObject(object, src.data, { ifAbsent: true, ...codec });
  const result: WalPushResult = {
    file: src.file.name,
    kind: src.file.kind,
    status: 'archived',
    systemIdentifier,
    object,
    key,
    bytes: src.data.length,
  };
  if (created) return result;
  const existing = await repo.getObject(object);
  if (existing.equals(src.data)) return { ...result, status: 'already-archived' };
  if (src.file.kind === 'partial') {
    // A .partial is never replayed by recovery as it is; the copy `wal stream` keeps is padded
    // with zeros after what it received, while the one a promoted server archives holds the
    // segment's real tail. The server's copy replaces it rather than blocking the archiver.
    await repo.putObject(object, src.data, codec);
    return result;
  }
  throw new PgkeepError(
    'DATA_INTEGRITY',
    `${src.file.name} is already archived in ${repo.location} with different content; the archived copy was kept`,
    {
      hint:
        'two servers are archiving into the same cluster name, or a server was restored and reused old WAL names ' +
        'without a new timeline; check archive_command on every server using this repository, and which copy is right',
      details: { file: src.file.name, object: key, archivedBytes: existing.length, newBytes: src.data.length },
    },
  );
}

/**
 * WAL's codec when [archive] compression is not set: the repository's, but zstd at level 1. On
 * WAL, level 1 stores 1-12% more than level 3 (the repository's default) for about half the CPU,
 * and a push is mostly compression (docs/wal-archiving.md, "Compression of WAL"). A repository
 * made with none, gzip or lz4 keeps its codec for WAL too.
 */
export function walCodec(repoCodec: Codec): Codec {
  return repoCodec.name === 'zstd' ? { name: 'zstd', level: 1 } : repoCodec;
}

/** The system the file belongs to, checked against (or recorded as) the cluster's identity. */
async function systemOf(repo: WalRepo, cluster: string, name: string, fromFile: string | undefined): Promise<string> {
  if (fromFile === undefined) {
    // A .history/.backup file outside a data directory: it can only belong to the recorded system.
    const known = await readClusterIdentity(repo, cluster);
    if (!known) {
      throw new PgkeepError('NOT_FOUND', `cannot tell which PostgreSQL system ${name} belongs to`, {
        hint: 'run "pgkeep wal push" from the data directory (as archive_command does), or set --pgdata',
      });
    }
    return known.systemIdentifier;
  }
  try {
    await checkClusterIdentity(repo, cluster, fromFile);
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'CONFLICT') {
      const recorded = (e.details?.recorded as string | undefined) ?? '?';
      throw new PgkeepError(
        'CONFLICT',
        `${name} is WAL of PostgreSQL system ${fromFile}, but cluster "${cluster}" in ${repo.location} is system ${recorded}; not archived`,
        {
          hint:
            'a different server (or a re-initdb) is archiving under this cluster name: give it its own ' +
            '--cluster NAME in archive_command, or another repository',
          details: { file: name, cluster, recorded, wal: fromFile },
        },
      );
    }
    throw e;
  }
  return fromFile;
}

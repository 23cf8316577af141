/**
 * Read archived WAL files back and check them: the object envelope (SHA-256 of the content, or
 * the AES-GCM tag when encrypted), decompression, then the content itself (content-check.ts:
 * page headers and every record's CRC-32C).
 * Shared by `wal check --read-data`, `repo check --read-data`, `verify` and `restore`.
 */
import { PgkeepError } from '../errors.js';
import type { Repository } from '../repo/index.js';
import type { ArchivedFile } from './wal-listing.js';
import { walContentProblem } from '../pg/wal/content-check.js';

export interface DamagedWalFile {
  /** WAL file name, e.g. 000000010000000000000003. */
  file: string;
  /** Stored key. */
  key: string;
  problem: string;
}

export interface WalReadResult {
  /** Files read and found right. */
  read: number;
  /** Stored bytes read. */
  bytes: number;
  damaged: DamagedWalFile[];
}

export interface WalReadOptions {
  /** Files read at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

type ReadRepo = Pick<Repository, 'getObject'>;

/** Read and check one archived file; the problem, or undefined when it is right. */
async function archivedFileProblem(repo: ReadRepo, f: ArchivedFile, systemIdentifier: string): Promise<string | undefined> {
  let data: Buffer;
  try {
    data = await repo.getObject(f.object);
  } catch (e) {
    if (!(e instanceof PgkeepError) || (e.code !== 'DATA_INTEGRITY' && e.code !== 'NOT_FOUND')) throw e;
    return e.code === 'NOT_FOUND' ? 'it disappeared while being checked' : e.message.replace(/^damaged repository object \S+: /, '');
  }
  const problem = walContentProblem(f.file, data, systemIdentifier, { records: true });
  return problem === undefined ? undefined : `content is not valid: ${problem}`;
}

/** Read and check each file (bounded concurrency); DATA_INTEGRITY problems are collected, others thrown. */
export async function readArchivedFiles(
  repo: ReadRepo,
  files: { file: ArchivedFile; systemIdentifier: string }[],
  opts: WalReadOptions = {},
): Promise<WalReadResult> {
  const out: WalReadResult = { read: 0, bytes: 0, damaged: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < files.length) {
      opts.signal?.throwIfAborted();
      const { file, systemIdentifier } = files[next++]!;
      const problem = await archivedFileProblem(repo, file, systemIdentifier);
      if (problem) out.damaged.push({ file: file.file.name, key: file.key, problem });
      else out.read++;
      out.bytes += file.size;
      opts.onProgress?.(++done, files.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 4, files.length)) }, worker));
  out.damaged.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return out;
}

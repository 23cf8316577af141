/**
 * A repository with many distinct blobs, and `repo gc` / `repo check` run on it in a child process
 * whose peak RSS (VmHWM) is its own. What gc and check hold grows, if anything, with the number of
 * distinct blobs (a sparse data directory makes few: its holes are one zero chunk), so the
 * snapshots here are generated: files whose every chunk differs (some noise and a counter, then zeros: a
 * blob of ~250 bytes once compressed), written through the snapshot writer. Used by the gc/check
 * memory test and bench/memory/gc.mjs.
 *
 *   node dist/test-support/many-blobs.js make <repoDir> <chunks> [from=0] [head|full]   one snapshot of `chunks` distinct chunks
 *   node dist/test-support/many-blobs.js gc|gc-dry|check|check-data <repoDir>
 *
 * Each prints one JSON line (BlobStepResult).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Repository } from '../repo/repository.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { garbageCollect } from '../repo/gc.js';
import { checkRepository } from '../repo/check.js';
import type { ContentReader } from '../repo/chunker.js';

const CLUSTER = 'blobs';
/** Chunks per generated file. */
const FILE_CHUNKS = 4096;

export type BlobStep = 'make' | 'gc' | 'gc-dry' | 'check' | 'check-data';

export interface BlobStepResult {
  step: string;
  seconds: number;
  peakRssMiB: number;
  /** make: chunks stored; check: distinct blobs referenced. */
  blobs?: number;
  snapshots?: number;
  packs?: number;
  ok?: boolean;
  damaged?: number;
  deletedPacks?: number;
  repackedPacks?: number;
  bytesFreed?: number;
  blobsRead?: number;
}

/** Run one step in a child process (its own peak RSS); `nodeFlags` e.g. a heap limit. */
export async function runBlobStep(
  step: BlobStep,
  repoDir: string,
  args: (string | number)[] = [],
  nodeFlags: string[] = [],
): Promise<BlobStepResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [...nodeFlags, fileURLToPath(import.meta.url), step, repoDir, ...args.map(String)],
    {
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as BlobStepResult;
}

/** Bytes of noise at the head of each chunk: its blob (~250 bytes) outweighs its index entry, as real blobs do. */
const NOISE = 192;

/** 'head': noise then zeros (a ~250-byte blob: the most blobs per pack); 'full': noise throughout (incompressible). */
export type Noise = 'head' | 'full';

/**
 * `count` chunks of `chunkSize` bytes, chunk i holding noise seeded by `from + i` (its first NOISE
 * bytes, or all of it when `noise` is 'full': incompressible), then zeros. Written straight into
 * the writer's buffers, as a file read is: the generator itself allocates nothing per chunk.
 */
function distinctChunks(from: number, count: number, chunkSize: number, noise: Noise): ContentReader {
  const span = noise === 'full' ? chunkSize : NOISE;
  let i = 0;
  return {
    readInto: async (into) => {
      let fill = 0;
      for (; i < count && fill + chunkSize <= into.length; i++, fill += chunkSize) {
        const chunk = into.subarray(fill, fill + chunkSize);
        let x = (from + i + 1) >>> 0 || 1;
        for (let at = 0; at + 4 <= span; at += 4) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          chunk.writeUInt32BE(x >>> 0, at);
        }
        if (span < chunkSize) {
          chunk.fill(0, span);
          chunk.writeDoubleBE(from + i, NOISE);
        }
      }
      return fill;
    },
  };
}

async function make(repo: Repository, chunks: number, from: number, noise: Noise): Promise<Partial<BlobStepResult>> {
  const { manifests } = await repo.readSnapshots(CLUSTER);
  const previous = manifests.at(-1);
  const w = await repo.startSnapshot({ cluster: CLUSTER, kind: 'physical', ...(previous ? { previous } : {}), jobs: 2, fileSha256: false });
  for (let at = 0, n = 0; at < chunks; at += FILE_CHUNKS, n++) {
    const count = Math.min(FILE_CHUNKS, chunks - at);
    const path = `base/5/${String(n).padStart(8, '0')}`;
    await w.addFile(
      { path, type: 'file', mode: 0o600, mtimeMs: 1, size: count * repo.chunkSize },
      distinctChunks(from + at, count, repo.chunkSize, noise),
    );
  }
  const m = await w.commit({});
  return { blobs: m.stats.newChunks, snapshots: manifests.length + 1 };
}

function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : -1;
}

async function main(): Promise<void> {
  const [step, repoDir, ...rest] = process.argv.slice(2);
  const began = Date.now();
  const repo = await Repository.open(new PosixDriver(repoDir!), { jobs: 2 });
  let out: Partial<BlobStepResult>;
  if (step === 'make') out = await make(repo, Number(rest[0]), Number(rest[1] ?? 0), rest[2] === 'full' ? 'full' : 'head');
  else if (step === 'gc' || step === 'gc-dry') {
    const r = await garbageCollect(repo, { dryRun: step === 'gc-dry' });
    out = {
      snapshots: r.snapshots,
      packs: r.packs,
      deletedPacks: r.deleted.length,
      repackedPacks: r.repacked.length,
      bytesFreed: r.bytesFreed,
    };
  } else if (step === 'check' || step === 'check-data') {
    const r = await checkRepository(repo, { readData: step === 'check-data' });
    out = { ok: r.ok, blobs: r.blobs, snapshots: r.snapshots, packs: r.packs, damaged: r.damaged.length, blobsRead: r.blobsRead };
  } else throw new Error(`unknown step ${step}`);
  await repo.close();
  const result: BlobStepResult = { step: step!, ...out, seconds: (Date.now() - began) / 1000, peakRssMiB: peakRssMiB() };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}

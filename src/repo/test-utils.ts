/** Helpers for the repository engine's tests (not used by the product). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PosixDriver } from './storage/posix/index.js';
import { Repository, type InitOptions } from './repository.js';
import type { Readable } from 'node:stream';
import { after, before } from 'node:test';

/** Cheap scrypt for tests. */
export const TEST_KDF = { N: 1024, r: 8, p: 1 };

export async function tempDir(prefix = 'pgkeep-repo-'): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * A temp directory made before the calling file's tests and removed after them; each call of the
 * function returned names a new path inside it (for one test's repository and files).
 */
export function tempPaths(prefix: string): () => string {
  let dir: { path: string; remove(): Promise<void> } | undefined;
  let n = 0;
  before(async () => {
    dir = await tempDir(prefix);
  });
  after(async () => {
    await dir?.remove();
  });
  return () => join(dir!.path, `r${++n}`);
}

export async function newPosixRepo(dir: string, opts: InitOptions = {}): Promise<Repository> {
  return Repository.init(new PosixDriver(dir), { kdfCost: TEST_KDF, jobs: 2, ...opts });
}

/** Random bytes (incompressible). */
export function randomData(n: number): Buffer {
  return randomBytes(n);
}

/** Text-like data that compresses about 3x, deterministic for a seed. */
export function compressibleData(n: number, seed = 1): Buffer {
  const words = ['order', 'paid', 'shipped', 'customer', 'note', 'sku', 'qty', 'price', 'returned', 'new'];
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  let p = 0;
  while (p < n) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = `${words[x % words.length]}=${(x >>> 8) % 10000} `;
    p += out.write(w, p);
  }
  return out;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Ids of the packs in the repository, sorted. */
export async function packIds(repo: Repository): Promise<string[]> {
  const out: string[] = [];
  for await (const o of repo.driver.list('packs/')) out.push(o.key.split('/')[2]!);
  return out.sort();
}

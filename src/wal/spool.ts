/**
 * The prefetch spool: segments fetched ahead of recovery, in a directory keyed by repository id,
 * cluster and system identifier (so a spool left by another repository or system is never
 * served). The spool lies outside the repository's guarantees, so each entry carries the CRC-32C
 * of its content in its name (`<segment>.<crc>`) and is read back whole and checked before it is
 * handed over: its CRC, and its long page header against its name (system identifier, page
 * address, a timeline not above the name's, the size the header gives). Entries appear by rename
 * (never half-written) and leave the spool when served; segments recovery has passed are pruned.
 * Each entry has a second link, `.kept-<segment>.<crc>`, that stays after it was served until
 * recovery moves past it: at the end of recovery PostgreSQL reads the last segment again.
 * The prefetcher checks each entry the same way before it enters the spool, so that the sh front
 * (bin/pgkeep) can serve it with a rename while nothing has written to it since (prefetch.ts).
 */
import { copyFile, link, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { isWalFileName, segmentNumberOf } from '../pg/wal-name.js';
import { readSegmentHeader } from '../pg/wal/identify.js';
import { PgkeepError } from '../errors.js';

export const SPOOL_TMP_PREFIX = '.tmp-';
/** The second link of an entry (the front serves it for a segment asked for again). */
export const KEPT_PREFIX = '.kept-';
const ENTRY = /^([0-9A-F]{24})\.([0-9a-f]{8})$/;
const KEPT = /^\.kept-([0-9A-F]{24})\.[0-9a-f]{8}$/;
const TMP_ENTRY = /^\.tmp-[0-9A-F]{24}-\d+$/;

/** Default spool root: inside pg_wal of the data directory recovery runs in (no backup copies pg_wal's contents). */
export function defaultSpoolRoot(dataDir: string): string {
  return join(dataDir, 'pg_wal', 'pgkeep-spool');
}

export function spoolDir(root: string, repoId: string, cluster: string, systemId: string): string {
  return join(root, `${repoId}-${cluster}-${systemId}`);
}

/** The checksum a spool entry carries in its name. */
export function spoolChecksum(data: Uint8Array): string {
  return crc32(data).toString(16).padStart(8, '0');
}

/** Segment name -> entry file name, for the entries of a spool directory (empty when there is none). */
export async function spoolEntries(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    const m = ENTRY.exec(n);
    if (m) out.set(m[1]!, n);
  }
  return out;
}

export type SpoolTake = { served: true; segmentSize: number } | { served: false; rejected?: string };

/**
 * Move a spooled segment to `destination` when the spool has it and it checks out. An entry
 * that does not is deleted (never served) and the reason returned; the caller reads the
 * repository instead. `beforeServe` runs once the entry checked out, before it leaves the spool:
 * the get records there that recovery is at `name` (.want), so that a prefetcher woken by the
 * entry leaving does not take it for one still to fetch.
 */
export async function takeFromSpool(
  dir: string,
  name: string,
  systemId: string,
  destination: string,
  beforeServe?: () => Promise<void>,
): Promise<SpoolTake> {
  if (!isWalFileName(name)) return { served: false };
  const entry = (await spoolEntries(dir)).get(name);
  if (!entry) return { served: false };
  const path = join(dir, entry);
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch {
    return { served: false };
  }
  const why = spooledContentProblem(data, name, entry.slice(25), systemId);
  if (why !== undefined) {
    await unlink(path).catch(() => undefined);
    await unlink(join(dir, `${KEPT_PREFIX}${entry}`)).catch(() => undefined);
    return { served: false, rejected: `spooled ${name} ${why}` };
  }
  await beforeServe?.().catch(() => undefined); // a spool it cannot write to costs speed, not the segment
  try {
    await rename(path, destination);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw ioFailure(path, e);
    await copyFile(path, destination);
    await unlink(path).catch(() => undefined);
  }
  return { served: true, segmentSize: data.length };
}

/** Why `data` may not be served as segment `name` (undefined: it may). */
export function spooledContentProblem(data: Buffer, name: string, checksum: string, systemId: string): string | undefined {
  if (spoolChecksum(data) !== checksum) return 'does not match its checksum (damaged in the spool)';
  return segmentContentProblem(data, name, systemId);
}

/** Why `data` (as read from the repository) may not be spooled as segment `name`: its header against the name. */
export function segmentContentProblem(data: Buffer, name: string, systemId: string): string | undefined {
  try {
    const hdr = readSegmentHeader(data, `spooled ${name}`);
    if (hdr.systemIdentifier !== systemId) return `belongs to system ${hdr.systemIdentifier}, not ${systemId}`;
    if (data.length !== hdr.segmentSize) return `has ${data.length} bytes, not ${hdr.segmentSize}`;
    if (hdr.pageAddress !== BigInt(hdr.segmentSize) * segmentNumberOf(name, hdr.segmentSize))
      return 'starts at another position than its name';
    if (hdr.timeline > Number.parseInt(name.slice(0, 8), 16)) return `holds timeline ${hdr.timeline}, above its name's`;
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/**
 * Remove what recovery no longer needs: entries positioned before `name`'s and such temp files;
 * with `otherTimelines` (`name` was found: recovery follows its timeline from there), also the
 * entries of other timelines.
 */
export async function pruneSpool(dir: string, name: string, otherTimelines = false): Promise<void> {
  if (!isWalFileName(name)) return;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  // log+seg (the last 16 digits) order segments by position whatever the segment size.
  const current = name.slice(8);
  const tli = name.slice(0, 8);
  for (const e of entries) {
    const m = ENTRY.exec(e) ?? KEPT.exec(e);
    const stale = m
      ? m[1]!.slice(8) < current || (otherTimelines && m[1]!.slice(0, 8) !== tli)
      : TMP_ENTRY.test(e) && e.slice(SPOOL_TMP_PREFIX.length + 8, SPOOL_TMP_PREFIX.length + 24) < current;
    if (stale) await rm(join(dir, e), { force: true });
  }
}

/**
 * Store a fetched segment in the spool (temp file, linked as `.kept-<name>.<crc>`, then renamed
 * to `<name>.<crc>`), dated
 * `checkedAt` when given. The directory must exist: once the spool was removed (recovery ended),
 * nothing recreates it.
 */
export async function putInSpool(
  dir: string,
  name: string,
  data: Uint8Array,
  checkedAt?: Date,
  checksum = spoolChecksum(data),
): Promise<void> {
  const tmp = join(dir, `${SPOOL_TMP_PREFIX}${name}-${process.pid}`);
  try {
    const h = await open(tmp, 'wx', 0o600);
    try {
      await h.writeFile(data);
      // Dated when the prefetcher's checks started: a write to the entry later makes it newer (prefetch.ts).
      if (checkedAt) await h.utimes(checkedAt, checkedAt);
    } finally {
      await h.close();
    }
    const entry = `${name}.${checksum}`;
    // Best effort (a file system without hard links): the re-read then goes to node.
    const kept = join(dir, `${KEPT_PREFIX}${entry}`);
    await rm(kept, { force: true })
      .then(() => link(tmp, kept))
      .catch(() => undefined);
    await rename(tmp, join(dir, entry));
  } catch (e) {
    // A full disk (the spool shares pg_wal's file system by default): leave no partial file.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

function ioFailure(path: string, e: unknown): PgkeepError {
  return new PgkeepError('REPOSITORY', `cannot move spooled WAL ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
}

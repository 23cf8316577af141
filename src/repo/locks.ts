/**
 * Repository locks. Backups, dumps and WAL pushes take a shared lock (many at once); gc takes the
 * exclusive lock (alone). Locks are small JSON objects under `locks/`:
 *
 *   locks/exclusive          the one exclusive lock (created with createIfAbsent)
 *   locks/shared/<id>        one object per shared holder
 *   locks/broken/<id>        marker left by breakLock for a holder that may still be running
 *
 * Each side writes its own object first and then looks for the other side, so two conflicting
 * holders can never both proceed (at worst both back off). A holder rewrites `heartbeatAt`
 * periodically. A lock whose heartbeat is older than `staleAfterMs`, or whose process is gone
 * from this host, is reported as stale together with the command that removes it; it is never
 * taken over silently.
 */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { PgkeepError } from '../errors.js';
import type { StorageDriver } from './storage/driver.js';

export const LOCKS_PREFIX = 'locks/';
export const EXCLUSIVE_KEY = 'locks/exclusive';
export const SHARED_PREFIX = 'locks/shared/';
/**
 * `locks/broken/<id>`: written by breakLock before it deletes a lock whose holder might still
 * run. A heartbeat that raced the delete and re-created the lock sees it and gives the lock up.
 */
export const BROKEN_PREFIX = 'locks/broken/';
const BROKEN_KEEP_MS = 7 * 24 * 3600_000;
export const DEFAULT_HEARTBEAT_MS = 30_000;
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

export type LockKind = 'shared' | 'exclusive';

/** What a lock object holds. Times are ISO 8601 strings. */
export interface LockInfo {
  id: string;
  kind: LockKind;
  /** What the holder does: "backup", "dump", "wal push", "gc"... */
  purpose: string;
  cluster?: string;
  /** OS user of the holder. */
  owner: string;
  host: string;
  pid: number;
  startedAt: string;
  heartbeatAt: string;
}

/** A lock as found in the repository, judged live or stale. */
export interface LockStatus extends LockInfo {
  key: string;
  stale: boolean;
  /** Why it is considered stale ("no heartbeat for 12 min", "process 123 is not running"). */
  staleReason?: string;
}

export interface AcquireLockOptions {
  kind: LockKind;
  purpose: string;
  cluster?: string;
  /** How often the holder rewrites heartbeatAt (default 30 s). */
  heartbeatMs?: number;
  /** A lock without heartbeat for this long is stale (default 5 min). */
  staleAfterMs?: number;
  signal?: AbortSignal;
}

export interface LockHandle {
  readonly id: string;
  readonly key: string;
  readonly info: LockInfo;
  /** Aborted when the lock was removed or replaced by someone else (e.g. `repo unlock --force`). */
  readonly lost: AbortSignal;
  /** Stop the heartbeat and remove the lock object. Safe to call twice. */
  release(): Promise<void>;
}

export interface LockQueryOptions {
  staleAfterMs?: number;
}

/** The command that removes a lock; shown in hints. */
export function unlockCommand(id: string): string {
  return `pgkeep repo unlock ${id}`;
}

export async function acquireLock(driver: StorageDriver, opts: AcquireLockOptions): Promise<LockHandle> {
  const heartbeatMs = opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  opts.signal?.throwIfAborted();
  const now = new Date().toISOString();
  const info: LockInfo = {
    id: randomBytes(8).toString('hex'),
    kind: opts.kind,
    purpose: opts.purpose,
    ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
    owner: currentUser(),
    host: hostname(),
    pid: process.pid,
    startedAt: now,
    heartbeatAt: now,
  };
  const key = opts.kind === 'exclusive' ? EXCLUSIVE_KEY : SHARED_PREFIX + info.id;
  if (opts.kind === 'exclusive') {
    await takeExclusive(driver, info, staleAfterMs);
  } else {
    await takeShared(driver, info, staleAfterMs);
  }
  if (opts.signal?.aborted) {
    await removeOwn(driver, key, info.id).catch(() => undefined);
    opts.signal.throwIfAborted();
  }
  return startHeartbeat(driver, key, info, heartbeatMs);
}

async function takeExclusive(driver: StorageDriver, info: LockInfo, staleAfterMs: number): Promise<void> {
  // Retry only when the holder vanished between our failed create and our read.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await driver.createIfAbsent(EXCLUSIVE_KEY, encode(info))) return takeExclusiveChecks(driver, info, staleAfterMs);
    const holder = await readLock(driver, EXCLUSIVE_KEY, staleAfterMs);
    if (holder) throw conflict(info, [holder]);
  }
  throw new PgkeepError('LOCKED', `the repository's exclusive lock keeps changing hands; ${info.purpose} cannot start`, {
    hint: 'another gc is starting and stopping right now; try again in a moment',
  });
}

async function takeExclusiveChecks(driver: StorageDriver, info: LockInfo, staleAfterMs: number): Promise<void> {
  const shared = await listSharedLocks(driver, staleAfterMs);
  if (shared.length > 0) {
    await removeOwn(driver, EXCLUSIVE_KEY, info.id);
    throw conflict(info, shared);
  }
}

async function takeShared(driver: StorageDriver, info: LockInfo, staleAfterMs: number): Promise<void> {
  const key = SHARED_PREFIX + info.id;
  await driver.put(key, encode(info));
  const exclusive = await readLock(driver, EXCLUSIVE_KEY, staleAfterMs);
  if (exclusive) {
    await driver.delete(key);
    throw conflict(info, [exclusive]);
  }
}

/** Every lock in the repository (exclusive first, then shared by start time). */
export async function listLocks(driver: StorageDriver, opts: LockQueryOptions = {}): Promise<LockStatus[]> {
  const staleAfterMs = opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const exclusive = await readLock(driver, EXCLUSIVE_KEY, staleAfterMs);
  return [...(exclusive ? [exclusive] : []), ...(await listSharedLocks(driver, staleAfterMs))];
}

/**
 * Remove the lock with this id. Without `force`, only a stale lock is removed: a live one is a
 * LOCKED error naming its holder. Returns what was removed; NOT_FOUND when no lock has the id.
 */
export async function breakLock(driver: StorageDriver, id: string, opts: LockQueryOptions & { force?: boolean } = {}): Promise<LockStatus> {
  const lock = (await listLocks(driver, opts)).find((l) => l.id === id);
  if (!lock) {
    throw new PgkeepError('NOT_FOUND', `no repository lock has the id ${id}`, {
      hint: 'list the current locks with `pgkeep repo info`, then pass one of their ids',
    });
  }
  if (!lock.stale && !opts.force) {
    throw new PgkeepError('LOCKED', `lock ${id} is held by ${describeHolder(lock)} and looks alive`, {
      hint: `wait for that process to finish; if you are sure it is gone, run \`${unlockCommand(id)} --force\``,
      details: { lock },
    });
  }
  // A holder that may still run could re-create the lock with a heartbeat racing this delete:
  // the marker tells it to give up. A holder whose pid is gone from this host cannot.
  const holderGone = lock.host === hostname() && !pidAlive(lock.pid);
  if (!holderGone) {
    await driver.put(
      BROKEN_PREFIX + lock.id,
      Buffer.from(JSON.stringify({ id: lock.id, brokenAt: new Date().toISOString(), by: `${currentUser()}@${hostname()}` }) + '\n'),
    );
  }
  await removeOwn(driver, lock.key, lock.id);
  await pruneBrokenMarkers(driver);
  return lock;
}

/** Remove markers old enough that no holder can still be running. */
async function pruneBrokenMarkers(driver: StorageDriver): Promise<void> {
  const old: string[] = [];
  for await (const o of driver.list(BROKEN_PREFIX)) if (Date.now() - o.mtimeMs > BROKEN_KEEP_MS) old.push(o.key);
  for (const k of old) await driver.delete(k);
}

/**
 * When the oldest shared lock (running backup, dump or WAL push) started, or undefined when
 * there is none. gc never touches packs newer than this.
 */
export async function oldestSharedLockStart(driver: StorageDriver, opts: LockQueryOptions = {}): Promise<Date | undefined> {
  const shared = await listSharedLocks(driver, opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
  const times = shared.map((l) => Date.parse(l.startedAt)).filter((t) => Number.isFinite(t));
  return times.length ? new Date(Math.min(...times)) : undefined;
}

async function listSharedLocks(driver: StorageDriver, staleAfterMs: number): Promise<LockStatus[]> {
  const out: LockStatus[] = [];
  for await (const o of driver.list(SHARED_PREFIX)) {
    const lock = await readLock(driver, o.key, staleAfterMs);
    if (lock) out.push(lock);
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** Read and judge one lock object; undefined when it does not exist (any more). */
async function readLock(driver: StorageDriver, key: string, staleAfterMs: number): Promise<LockStatus | undefined> {
  let raw: Buffer;
  try {
    raw = await driver.get(key);
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
  const info = decode(raw);
  if (!info) return unknownHolder(key);
  return { ...info, key, ...staleness(info, staleAfterMs) };
}

function staleness(info: LockInfo, staleAfterMs: number): { stale: boolean; staleReason?: string } {
  if (info.host === hostname() && !pidAlive(info.pid)) {
    return { stale: true, staleReason: `process ${info.pid} is no longer running on ${info.host}` };
  }
  const age = Date.now() - Date.parse(info.heartbeatAt);
  if (!(age <= staleAfterMs)) {
    return { stale: true, staleReason: `no heartbeat since ${info.heartbeatAt} (${formatAge(age)} ago)` };
  }
  return { stale: false };
}

function unknownHolder(key: string): LockStatus {
  const id = key === EXCLUSIVE_KEY ? 'exclusive' : key.slice(SHARED_PREFIX.length);
  return {
    id,
    key,
    kind: key === EXCLUSIVE_KEY ? 'exclusive' : 'shared',
    purpose: 'unknown',
    owner: 'unknown',
    host: 'unknown',
    pid: 0,
    startedAt: '',
    heartbeatAt: '',
    stale: true,
    staleReason: `the lock object ${key} is unreadable`,
  };
}

function conflict(wanted: LockInfo, holders: LockStatus[]): PgkeepError {
  const live = holders.filter((h) => !h.stale);
  const stale = holders.filter((h) => h.stale);
  const first = holders[0];
  let message =
    holders.length === 1 && first
      ? `the repository is locked by ${describeHolder(first)}${first.stale ? `, but that lock looks stale: ${first.staleReason}` : ''}`
      : `the repository is in use by ${holders.length} other processes: ` +
        holders.map((h) => `${describeHolder(h)}${h.stale ? ` [stale: ${h.staleReason}]` : ''}`).join('; ');
  message += wanted.kind === 'exclusive' ? `; ${wanted.purpose} needs it to itself` : `; ${wanted.purpose} cannot start`;
  const hints: string[] = [];
  if (live.length) hints.push(`wait for ${live.length === 1 ? 'it' : 'them'} to finish, then try again`);
  if (stale.length) {
    hints.push(
      `if no pgkeep process is using the repository any more, remove the stale lock${stale.length > 1 ? 's' : ''} with ` +
        stale.map((s) => `\`${unlockCommand(s.id)}\``).join(' and '),
    );
  }
  return new PgkeepError('LOCKED', message, {
    hint: hints.join('; '),
    details: { holders: holders.map(({ key: _key, ...rest }) => rest) },
  });
}

/** "gc (pid 1234 on host db1, user postgres, since 2026-...)" */
export function describeHolder(l: LockStatus | LockInfo): string {
  const what = l.cluster ? `${l.purpose} of cluster ${l.cluster}` : l.purpose;
  if (l.purpose === 'unknown' && !l.startedAt) return `an unknown holder (unreadable lock object, id ${l.id})`;
  return `${what} (pid ${l.pid} on host ${l.host}, user ${l.owner}, since ${l.startedAt}, lock id ${l.id})`;
}

function startHeartbeat(driver: StorageDriver, key: string, info: LockInfo, heartbeatMs: number): LockHandle {
  const lost = new AbortController();
  const brokenKey = BROKEN_PREFIX + info.id;
  let released = false;
  let beating: Promise<void> | undefined;
  const giveUp = async () => {
    clearInterval(timer);
    lost.abort(
      new PgkeepError('LOCKED', `the repository lock ${info.id} for ${info.purpose} was removed by someone else`, {
        hint: `another process or \`${unlockCommand(info.id)} --force\` removed it; rerun the command`,
      }),
    );
    await driver.delete(brokenKey).catch(() => undefined);
  };
  const beat = async () => {
    try {
      const current = await readInfo(driver, key); // storage trouble throws: next tick retries
      if (!current || current.id !== info.id) return await giveUp();
      if (released) return;
      info.heartbeatAt = new Date().toISOString();
      await driver.put(key, encode(info));
      // Checked after the write: if breakLock deleted the lock just before it, the write
      // re-created it, and the marker (written before the delete) is visible now.
      if (await driver.stat(brokenKey)) {
        await removeOwn(driver, key, info.id);
        await giveUp();
      }
    } catch {
      // A failed heartbeat is retried on the next tick; the lock only turns stale after minutes.
    }
  };
  const timer = setInterval(() => {
    if (beating) return; // the previous heartbeat is still running
    beating = beat().finally(() => (beating = undefined));
  }, heartbeatMs);
  timer.unref();
  return {
    id: info.id,
    key,
    info,
    lost: lost.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await beating;
      if (!lost.signal.aborted) await removeOwn(driver, key, info.id);
    },
  };
}

/** Delete the lock object at `key` if it still carries `id` (never someone else's). */
async function removeOwn(driver: StorageDriver, key: string, id: string): Promise<void> {
  if (key !== EXCLUSIVE_KEY) return driver.delete(key);
  const current = await readInfo(driver, key);
  if (current?.id === id || (id === 'exclusive' && current === undefined)) await driver.delete(key);
}

/** The lock object's contents; undefined when absent or unreadable; other errors throw. */
async function readInfo(driver: StorageDriver, key: string): Promise<LockInfo | undefined> {
  try {
    return decode(await driver.get(key));
  } catch (e) {
    if (e instanceof PgkeepError && e.code === 'NOT_FOUND') return undefined;
    throw e;
  }
}

function encode(info: LockInfo): Buffer {
  return Buffer.from(JSON.stringify(info, null, 1) + '\n');
}

function decode(raw: Buffer): LockInfo | undefined {
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<LockInfo>;
    if (typeof v.id !== 'string' || (v.kind !== 'shared' && v.kind !== 'exclusive') || typeof v.pid !== 'number') return undefined;
    return {
      id: v.id,
      kind: v.kind,
      purpose: String(v.purpose ?? 'unknown'),
      ...(v.cluster !== undefined ? { cluster: String(v.cluster) } : {}),
      owner: String(v.owner ?? 'unknown'),
      host: String(v.host ?? 'unknown'),
      pid: v.pid,
      startedAt: String(v.startedAt ?? ''),
      heartbeatAt: String(v.heartbeatAt ?? v.startedAt ?? ''),
    };
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM'; // exists, owned by another user
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? String(process.getuid?.() ?? 'unknown');
  }
}

function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return 'an unknown time';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}

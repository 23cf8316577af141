/**
 * The push spool: acknowledgements of segments the background pusher stored durably, and its
 * status file. Only node:fs here: the foreground `wal push` reads an acknowledgement before it
 * loads anything heavy.
 *
 *   <spool root>/push-<cluster>-<repo hash>/
 *     acks/<WAL file name>   one per acknowledged file: written under a temp name, renamed
 *     status.json            the pusher's state for health checks (status.ts)
 *     pusher.lock            the running pusher's pid (lock.ts)
 *     pusher.log             the pusher's output
 *
 * An acknowledgement is written only after the repository write returned (durable and checked,
 * as a synchronous push). It says "stored in the repository at this path", so the directory is
 * keyed by the repository path, and the pusher clears it when the repository's id changes.
 *
 * Acknowledgements are not fsynced: what must be durable is the object, and it is before its
 * acknowledgement exists. A crash of the machine can lose recent acknowledgements (those files
 * are pushed again: same bytes = success) or leave one empty (it still names a stored file);
 * it cannot leave one for a file that is not stored. Only the existence of the file counts.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

/** Default spool root: inside pg_wal, which every backup skips and the server's OS user can write. */
export function defaultPushSpoolRoot(pgWalDir: string): string {
  return join(pgWalDir, 'pgkeep-spool');
}

export function pushSpoolDir(root: string, cluster: string, repoPath: string): string {
  const h = createHash('sha256').update(repoPath).digest('hex').slice(0, 12);
  return join(root, `push-${cluster}-${h}`);
}

/** Where archive_command's %p is, and the spool of its pg_wal. */
export interface PushSpoolPlace {
  file: string;
  pgWalDir: string;
  spoolDir: string;
}

export function pushSpoolPlace(p: {
  path: string;
  cwd: string;
  pgdata?: string;
  cluster: string;
  repoPath: string;
  spoolPath?: string;
}): PushSpoolPlace {
  let abs = isAbsolute(p.path) ? p.path : resolve(p.cwd, p.path);
  if (!existsSync(abs) && p.pgdata && !isAbsolute(p.path)) abs = resolve(p.pgdata, p.path);
  const pgWalDir = dirname(abs);
  return { file: basename(abs), pgWalDir, spoolDir: pushSpoolDir(p.spoolPath ?? defaultPushSpoolRoot(pgWalDir), p.cluster, p.repoPath) };
}

const ACKS = 'acks';
const TMP = '.tmp-';

export function isAcknowledged(spoolDir: string, name: string): boolean {
  return existsSync(join(spoolDir, ACKS, name));
}

export interface AckRecord {
  file: string;
  key: string;
  bytes: number;
  at: string;
}

/** Record `rec.file` as stored (call only once the repository write returned): temp file, rename. */
export async function writeAck(spoolDir: string, rec: AckRecord): Promise<void> {
  const dir = join(spoolDir, ACKS);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `${TMP}${rec.file}-${process.pid}`);
  try {
    await writeFile(tmp, JSON.stringify(rec) + '\n', { mode: 0o600 });
    await rename(tmp, join(dir, rec.file));
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

export async function listAcks(spoolDir: string): Promise<string[]> {
  try {
    return (await readdir(join(spoolDir, ACKS))).filter((n) => !n.startsWith(TMP));
  } catch {
    return [];
  }
}

/**
 * Drop acknowledgements PostgreSQL will not ask for again: those whose `.ready` is gone (the
 * archiver got its 0 and marked the file done). Temp files of a killed pusher go too. Returns
 * the acknowledgements kept (one directory read per call, whatever the backlog).
 */
export async function pruneAcks(spoolDir: string, stillReady: Set<string>): Promise<Set<string>> {
  const kept = new Set<string>();
  let entries: string[];
  try {
    entries = await readdir(join(spoolDir, ACKS));
  } catch {
    return kept;
  }
  for (const e of entries) {
    if (e.startsWith(TMP) ? !e.endsWith(`-${process.pid}`) : !stillReady.has(e)) await rm(join(spoolDir, ACKS, e), { force: true });
    else if (!e.startsWith(TMP)) kept.add(e);
  }
  return kept;
}

/** Forget every acknowledgement (the repository at this path is another one now). */
export async function clearAcks(spoolDir: string): Promise<void> {
  await rm(join(spoolDir, ACKS), { recursive: true, force: true });
}

/** The id of the repository the acknowledgements were made in; replaced (and acks cleared) when it changes. */
export async function bindRepository(spoolDir: string, repoId: string): Promise<boolean> {
  const path = join(spoolDir, 'repository-id');
  const known = await readFile(path, 'utf8').then(
    (s) => s.trim(),
    () => undefined,
  );
  if (known === repoId) return false;
  await clearAcks(spoolDir);
  // The removal is durable before the new id is written: a crash cannot leave the old
  // repository's acknowledgements beside the new repository's id.
  const d = await open(spoolDir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
  await writeFile(path, repoId + '\n', { mode: 0o600 });
  return known !== undefined;
}

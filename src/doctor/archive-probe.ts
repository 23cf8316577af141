/**
 * The end-to-end archive check (`doctor --method archive --check-archive`): write a little WAL,
 * switch to a new segment, and wait (bounded) until archive_command has stored the completed
 * segment in the repository, read back through pgkeep's repository code (so it is really there
 * and decodes, not merely reported by pg_stat_archiver). On failure: pg_stat_archiver's last
 * failure and the server log's last archive errors.
 */
import { readFile, readlink, open } from 'node:fs/promises';
import { join } from 'node:path';
import { toPgkeepError } from '../errors.js';
import { archiverStats, type Queryable } from '../pg/catalog.js';
import type { ClusterLayout } from '../pg/layout.js';
import { openRepository } from '../repo/open.js';
import { type AskPassphrase, passphraseGetter } from '../repo/passphrase.js';
import { walObjectName } from '../holdings/wal-layout.js';
import type { ArchiveTarget } from './archive-target.js';
import type { ArchiveProbeFacts } from './types.js';

export interface ProbeOptions {
  timeoutMs: number;
  systemIdentifier: string | null;
  dataDirectory: string | null;
  layout?: ClusterLayout;
  inRecovery?: boolean;
  /** How to ask for the passphrase when archive_command's environment gives none. */
  askPassphrase?: AskPassphrase;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function probeArchive(db: Queryable, target: ArchiveTarget, opts: ProbeOptions): Promise<ArchiveProbeFacts> {
  const started = Date.now();
  const base = { ok: false, waitedMs: 0, timeoutMs: opts.timeoutMs };
  if (!target.repo.path) return { ...base, error: 'no repository is configured for archive_command (see archive_access)' };
  if (!opts.systemIdentifier) return { ...base, error: 'the system identifier is not readable (pg_control_system())' };
  if (opts.inRecovery) {
    return { ...base, error: 'the server is a standby, which cannot switch WAL: run the check against the primary' };
  }
  const segment = await switchSegment(db).catch((e) => toPgkeepError(e));
  if (typeof segment !== 'string') return { ...base, error: segment.message };
  const object = walObjectName(target.clusterName, opts.systemIdentifier, segment);
  let repo;
  try {
    repo = await openRepository(target.repo, {
      getPassphrase: passphraseGetter(
        { fromEnv: target.env.PGKEEP_PASSPHRASE !== undefined, file: target.passphraseFile },
        { env: target.env, ...(opts.askPassphrase ? { askPassphrase: opts.askPassphrase } : {}) },
      ),
    });
  } catch (e) {
    return { ...base, segment, error: `cannot open the repository ${target.repo.path}: ${toPgkeepError(e).message}` };
  }
  let error = `not in ${target.repo.path}`;
  try {
    while (Date.now() - started < opts.timeoutMs) {
      if (opts.signal?.aborted) throw toPgkeepError(opts.signal.reason);
      if (await repo.statObject(object)) {
        await repo.getObject(object); // reads and verifies it
        return { ok: true, segment, object, waitedMs: Date.now() - started, timeoutMs: opts.timeoutMs };
      }
      await sleep(250);
    }
  } catch (e) {
    const err = toPgkeepError(e);
    if (err.code === 'INTERRUPTED') throw err;
    error = `stored but not readable: ${err.message}`;
  } finally {
    await repo.closeAll().catch(() => {});
  }
  const a = await archiverStats(db);
  const log = await archiveLogLines(db, opts);
  return {
    ...base,
    segment,
    waitedMs: Date.now() - started,
    error,
    lastFailedWal: a.lastFailedWal,
    lastFailedTime: a.lastFailedTime,
    ...log,
  };
}

/** Write a little WAL (so there is something to switch away from), then switch: the completed segment's name. */
async function switchSegment(db: Queryable): Promise<string> {
  await db.query('SELECT txid_current()');
  try {
    const { rows } = await db.query('SELECT pg_walfile_name(pg_switch_wal()) AS f');
    return rows[0].f as string;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === '42501') {
      throw Object.assign(
        new Error(
          'this role may not run pg_switch_wal(): as a superuser, GRANT EXECUTE ON FUNCTION pg_switch_wal() TO the role doctor connects as (or run the check as a superuser)',
        ),
        { code },
      );
    }
    throw e;
  }
}

/** The server log (logging collector's current file, the postmaster's stderr, Debian's log) and its last archive errors. */
async function archiveLogLines(db: Queryable, opts: ProbeOptions): Promise<{ logFile?: string; logLines?: string[] }> {
  const candidates: string[] = [];
  try {
    const { rows } = await db.query('SELECT pg_current_logfile() AS f');
    if (rows[0].f)
      candidates.push(opts.dataDirectory && !String(rows[0].f).startsWith('/') ? join(opts.dataDirectory, rows[0].f) : rows[0].f);
  } catch {
    // not allowed: try the others
  }
  if (opts.dataDirectory) {
    try {
      const pid = Number((await readFile(join(opts.dataDirectory, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      const target = await readlink(`/proc/${pid}/fd/2`);
      if (target.startsWith('/') && !target.startsWith('/dev/')) candidates.push(target);
    } catch {
      // not ours to read
    }
  }
  const d = opts.layout?.debian;
  if (d) candidates.push(`/var/log/postgresql/postgresql-${d.version}-${d.name}.log`);
  for (const file of candidates) {
    const tail = await readTail(file, 256 * 1024);
    if (tail === undefined) continue;
    const lines = tail.split('\n').filter((l) => /archive command|archive_command|failed archive|pgkeep/i.test(l));
    return { logFile: file, logLines: lines.slice(-6) };
  }
  return {};
}

async function readTail(file: string, bytes: number): Promise<string | undefined> {
  try {
    const fh = await open(file, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - bytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

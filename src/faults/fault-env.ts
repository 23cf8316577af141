/**
 * One fault-test file's world: a real PostgreSQL cluster with a few MB of data, a posix
 * repository with small packs (so a backup publishes many of them and a kill can land between
 * two), and the checks every fault ends with:
 *
 *   repo check --read-data passes -> every snapshot `list` shows restores, starts, and holds the
 *   table contents it had at backup time -> no lock is left but stale ones from killed processes.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../pg/local-cluster.js';
import { newPosixRepo } from '../repo/test-utils.js';
import { tableChecksums } from '../backup/test-support.js';
import { chownTreeToServerUser, ensureTraversable } from '../pg/server-user.js';
import { runCli, spawnCli, waitUntil, type CliProcess, type CliResult } from './cli-process.js';

export const TABLES = { postgres: ['steady', 'churn'] };

/** What a backup attempt saw: table checksums while nothing wrote (snapshots started after `at` hold them). */
interface DataState {
  at: number;
  sums: Record<string, string>;
}

export class FaultEnv {
  readonly work: string;
  readonly home: string;
  readonly repoDir: string;
  cluster!: LocalCluster;
  private states: DataState[] = [];
  private restores = 0;
  /** Snapshot ids already restored and compared (each is compared once per file unless asked again). */
  private verified = new Set<string>();

  private constructor(prefix: string) {
    this.work = mkdtempSync(join(tmpdir(), `pgkeep-${prefix}-`));
    this.home = join(this.work, 'home');
    mkdirSync(this.home);
    this.repoDir = join(this.work, 'repo');
  }

  /** A running cluster ("steady": about 4 MB nobody changes, "churn": rows the tests rewrite) and an empty repository. */
  static async create(prefix: string, settings: Record<string, string | number | boolean> = {}): Promise<FaultEnv> {
    const env = new FaultEnv(prefix);
    env.cluster = await LocalCluster.create({
      settings: {
        wal_level: 'replica',
        max_wal_senders: 10,
        max_replication_slots: 5,
        fsync: false,
        checkpoint_timeout: '1h',
        ...settings,
      },
      hba: ['local replication all trust', 'host replication all 127.0.0.1/32 trust'],
    });
    await env.cluster.start();
    await env.cluster.exec(`
      CREATE TABLE steady (id int PRIMARY KEY, payload text);
      INSERT INTO steady SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) FROM generate_series(1, 30000) g;
      CREATE TABLE churn (id int PRIMARY KEY, round int, payload text);
      INSERT INTO churn SELECT g, 0, md5(g::text) || md5((g * 3)::text) FROM generate_series(1, 20000) g;
      CHECKPOINT;`);
    // Small packs and chunks: a backup of a few MB publishes dozens of packs, one after another.
    const repo = await newPosixRepo(env.repoDir, { chunkSize: 64 * 1024, packSize: 256 * 1024, compression: 'lz4' });
    await repo.close();
    // Every packs/<aa>/ directory exists from the start, so that a test can watch each of them
    // (inotify) before a command writes or deletes a pack in it.
    for (let i = 0; i < 256; i++) mkdirSync(join(env.repoDir, 'packs', i.toString(16).padStart(2, '0')), { recursive: true, mode: 0o700 });
    // As in production, the repository belongs to the server's OS user: restore_command
    // ("pgkeep wal get", run by the restored server) must read it; pgkeep run as root keeps
    // writing its files as that owner.
    chownTreeToServerUser(env.repoDir);
    ensureTraversable(env.repoDir);
    return env;
  }

  async destroy(): Promise<void> {
    await this.cluster?.destroy();
    rmSync(this.work, { recursive: true, force: true });
  }

  /** Global options for every command: this repository, this cluster, JSON output. */
  args(...rest: string[]): string[] {
    return [
      '--repo',
      this.repoDir,
      '--cluster',
      'main',
      '-d',
      this.cluster.connectionString(),
      '--pgdata',
      this.cluster.dataDir,
      '--json',
      ...rest,
    ];
  }

  cli(args: string[], timeoutMs?: number): Promise<CliResult> {
    return runCli(this.args(...args), { home: this.home, ...(timeoutMs ? { timeoutMs } : {}) });
  }

  /** Start a command and return at once (to inject a fault while it runs). */
  spawn(...args: string[]): CliProcess {
    return spawnCli(this.args(...args), { home: this.home });
  }

  /** Start a standalone backup (it restores with no WAL archive). */
  startBackup(method: 'stream' | 'local' | 'cold'): CliProcess {
    return this.spawn('backup', '--method', method, '--standalone', '--jobs', '2');
  }

  /** Rewrite part of "churn" and remember what the tables hold now (call before each backup attempt). */
  async changeData(round: number): Promise<void> {
    await this.cluster.exec(`UPDATE churn SET round = ${round}, payload = md5(payload || '${round}') WHERE id % 4 = ${round % 4}`);
    await this.recordState();
  }

  async recordState(): Promise<void> {
    const sums = await tableChecksums(this.cluster, TABLES);
    // Recorded after the change committed and before the next backup starts: a snapshot that
    // started after `at` holds exactly these rows.
    this.states.push({ at: Date.now(), sums });
  }

  /** A backup to completion; returns its snapshot id. */
  async backup(method: 'stream' | 'local' | 'cold' = 'stream'): Promise<string> {
    const r = await this.cli(['backup', '--method', method, '--standalone', '--jobs', '2']);
    assert.equal(r.code, 0, `backup failed: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout).snapshotId as string;
  }

  async list(): Promise<{ id: string; startTime: string }[]> {
    const r = await this.cli(['list']);
    assert.equal(r.code, 0, `list failed: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout).snapshots;
  }

  /** `repo check --read-data` must pass: nothing damaged, every blob readable. */
  async assertCheckPasses(when: string): Promise<void> {
    const r = await this.cli(['repo', 'check', '--read-data']);
    assert.equal(r.code, 0, `repo check --read-data after ${when} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).ok, true);
  }

  /** The table checksums a snapshot started at `startTime` must hold. */
  expectedFor(startTime: string): Record<string, string> {
    const t = Date.parse(startTime);
    const state = [...this.states].reverse().find((s) => s.at <= t);
    assert.ok(state, `no recorded data state before snapshot start ${startTime}`);
    return state.sums;
  }

  /**
   * Restore every snapshot `list` shows (not yet compared, or all with `all`), start it and
   * compare each table with what it held at backup time.
   */
  async assertEverySnapshotRestores(when: string, opts: { all?: boolean } = {}): Promise<number> {
    let n = 0;
    for (const s of await this.list()) {
      if (!opts.all && this.verified.has(s.id)) continue;
      await this.assertRestores(s.id, this.expectedFor(s.startTime), when);
      this.verified.add(s.id);
      n++;
    }
    return n;
  }

  /** Restore one snapshot into a fresh directory, start it and compare its tables. */
  async assertRestores(id: string, expected: Record<string, string>, when: string): Promise<void> {
    const dir = this.newTarget();
    // With WAL in the archive a restore recovers to its end; the backup's own point is "immediate".
    const target = existsSync(join(this.repoDir, 'wal')) ? ['--target', 'immediate'] : [];
    const r = await this.cli(['restore', id, '--to', dir, '--archive-mode', 'off', '--no-sync', '--jobs', '2', ...target]);
    assert.equal(r.code, 0, `restore of ${id} (listed after ${when}) failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    await this.assertDataDir(dir, expected, `snapshot ${id} after ${when}`);
  }

  /** Start a restored data directory, compare its tables, and remove it. */
  async assertDataDir(dir: string, expected: Record<string, string>, what: string): Promise<void> {
    const c = await LocalCluster.attach(dir, { removeDataDir: true });
    try {
      await c.start();
      assert.deepEqual(await tableChecksums(c, TABLES), expected, `data of ${what}`);
    } finally {
      await c.destroy();
    }
  }

  newTarget(): string {
    return join(this.work, `restore-${++this.restores}`);
  }

  /** The repository's lock objects as `repo locks` reports them. */
  async locks(): Promise<{ id: string; kind: string; purpose: string; stale: boolean; staleReason?: string; pid: number }[]> {
    const r = await this.cli(['repo', 'locks']);
    assert.equal(r.code, 0, `repo locks failed: ${r.stdout}${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Every lock left by the killed process `pid` is reported stale; remove it the documented way. */
  async assertStaleLocksAndUnlock(pid: number, when: string): Promise<number> {
    const left = (await this.locks()).filter((l) => l.pid === pid);
    for (const l of left) {
      assert.equal(l.stale, true, `lock ${l.id} of killed pid ${pid} (${when}) is not reported stale`);
      assert.match(l.staleReason ?? '', /no longer running/);
      const u = await this.cli(['repo', 'unlock', l.id]);
      assert.equal(u.code, 0, `repo unlock ${l.id}: ${u.stdout}${u.stderr}`);
    }
    return left.length;
  }

  /**
   * The server forgets a backup whose client died: within a bound, no replication slot is left
   * (a forgotten one would keep WAL forever and fill the server's disk), no walsender and no
   * base backup run, and a new backup could start.
   */
  async assertServerForgotBackup(when: string): Promise<void> {
    let state = '';
    const began = Date.now();
    await waitUntil(
      async () => {
        const [r] = await this.cluster.query<{ slots: string; senders: string; backups: string }>(`
        SELECT (SELECT string_agg(slot_name, ',') FROM pg_replication_slots) AS slots,
               (SELECT count(*) FROM pg_stat_replication)::text AS senders,
               (SELECT count(*) FROM pg_stat_progress_basebackup)::text AS backups`);
        state = JSON.stringify(r);
        return r!.slots === null && r!.senders === '0' && r!.backups === '0';
      },
      `the server to drop what the backup left (${when}): ${state}`,
      30_000,
      50,
    );
    if (Date.now() - began > 1000)
      console.log(`# the server took ${Date.now() - began} ms to drop what the backup left (${when}): ${state}`);
  }

  // --- Observable state in the repository (the kill points) ---

  /** Keys of published packs. */
  packs(): string[] {
    return listFiles(join(this.repoDir, 'packs')).filter((f) => !isTemp(f));
  }

  /** Temporary files (objects being written) anywhere under `sub`. */
  tempFiles(sub = ''): string[] {
    return listFiles(join(this.repoDir, sub)).filter(isTemp);
  }

  sharedLockFiles(): string[] {
    return listFiles(join(this.repoDir, 'locks', 'shared'));
  }

  hasExclusiveLock(): boolean {
    return existsSync(join(this.repoDir, 'locks', 'exclusive'));
  }
}

const isTemp = (f: string) => f.split('/').pop()!.startsWith('.pgkeep-tmp-');

/** Relative paths of the files under `dir` (empty when it does not exist). */
export function listFiles(dir: string, rel = ''): string[] {
  let entries;
  try {
    entries = readdirSync(join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else out.push(r);
  }
  return out;
}

/**
 * One FaultEnv for the test file: created before its tests (with one first stream backup of
 * the recorded data), handed to `use`, destroyed after them.
 */
export function useFaultEnv(prefix: string, use: (env: FaultEnv) => void, settings: Record<string, string | number | boolean> = {}): void {
  let env: FaultEnv | undefined;
  before(async () => {
    env = await FaultEnv.create(prefix, settings);
    use(env);
    await env.recordState();
    await env.backup('stream');
  });
  after(async () => {
    await env?.destroy();
  });
}

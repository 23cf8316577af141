/**
 * Throwaway PostgreSQL clusters for tests, the demo, scenarios and restore drills: initdb in a
 * temp directory, a free port, the unix socket in a 0700 directory of the server's OS user
 * inside the temp directory, the server log next to it. When this process is root the server
 * runs as the `postgres` OS user. create() listens on 127.0.0.1 too (tests); attach() — a
 * restored copy of production — on no TCP address unless asked (`listen`), see restored-hba.ts.
 *
 *   const c = await LocalCluster.create({ settings: { wal_level: 'replica' } });
 *   await c.start();
 *   const rows = await c.query('select 1 as one');
 *   await c.destroy();
 *
 * Layout of the base directory: data/ (PGDATA), socket/, server.log.
 */

import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { PgkeepError } from '../errors.js';
import type { ClusterSettings } from '../config/types.js';
import { quoteConnValue } from '../config/conninfo.js';
import { pgToolPath } from './bin.js';
import { readControlData } from './control.js';
import type { ConfValue } from './conf-file.js';
import type { HbaReport } from './restored-hba.js';
import { chownTreeToServerUser, ensureTraversable, runProgram, runProgramSync, serverOsUser, type RunResult } from './server-user.js';
import { freePort, makeBaseDir } from './local-cluster/base-dir.js';
import { moveConfigOut, prepareAuthFiles, updateIncludeFile, writeOwnSettings } from './local-cluster/config-files.js';
import { runInitdb } from './local-cluster/initdb.js';
import type { ClusterInit, LocalClusterAttachOptions, LocalClusterCreateOptions, StartOptions, StopMode } from './local-cluster/options.js';
import { fileSize, readFrom, tail } from './local-cluster/output-text.js';
import { installSafetyNet, live } from './local-cluster/safety-net.js';
import { runPsql, withSuperuserClient } from './local-cluster/clients.js';
import { serverReachableBin } from './local-cluster/server-bin.js';
import { isPortConflict, pgCtlStartArgs, startError } from './local-cluster/start-args.js';

export type {
  HostAuthMethod,
  LocalClusterAttachOptions,
  LocalClusterCreateOptions,
  StartOptions,
  StopMode,
} from './local-cluster/options.js';
export { freePort } from './local-cluster/base-dir.js';

const PORT_RETRIES = 4;

export class LocalCluster {
  readonly baseDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly binDir: string;
  readonly major: number;
  readonly version: string;
  readonly superuser: string;
  readonly logFile: string;
  /** listen_addresses written to the include file ("" = no TCP). */
  readonly listen: string;
  /** attach(): what was done to pg_hba.conf. */
  hba?: HbaReport;
  /** create({ configDir }): where postgresql.conf, pg_hba.conf and pg_ident.conf live (else the data directory). */
  private configDir?: string;
  private _port: number;
  private readonly portIsFixed: boolean;
  private readonly removeDataDir: boolean;
  private _running = false;
  private destroyed = false;

  private constructor(init: ClusterInit) {
    this.baseDir = init.baseDir;
    this.dataDir = init.dataDir;
    this.socketDir = join(init.baseDir, 'socket');
    this.logFile = join(init.baseDir, 'server.log');
    this.binDir = init.binDir;
    this.major = init.major;
    this.version = init.version;
    this.superuser = init.superuser;
    this._port = init.port;
    this.portIsFixed = init.portIsFixed;
    this.removeDataDir = init.removeDataDir;
    this.listen = init.listen;
    installSafetyNet();
    live.add(this);
  }

  get port(): number {
    return this._port;
  }

  get running(): boolean {
    return this._running;
  }

  /** initdb a new cluster in a fresh temp directory (not started). */
  static async create(opts: LocalClusterCreateOptions = {}): Promise<LocalCluster> {
    const bin = await serverReachableBin({ pgBin: opts.pgBin, major: opts.major });
    const baseDir = makeBaseDir(opts.tmpDir);
    const superuser = opts.superuser ?? 'postgres';
    const cluster = new LocalCluster({
      baseDir,
      dataDir: join(baseDir, 'data'),
      binDir: bin.binDir,
      major: bin.major,
      version: bin.version,
      superuser,
      port: opts.port ?? (await freePort()),
      portIsFixed: opts.port !== undefined,
      removeDataDir: true,
      listen: opts.listen ?? '127.0.0.1',
    });
    try {
      await runInitdb(cluster, (tool, args) => cluster.run(tool, args), opts);
      if (opts.configDir) cluster.moveConfigOut(resolve(opts.configDir));
      cluster.writeOwnSettings();
      const method = opts.authMethod ?? 'trust';
      const extra: Record<string, ConfValue> = {};
      if (method === 'md5' || method === 'scram-sha-256') extra.password_encryption = method;
      await cluster.configure({ ...extra, ...opts.settings }, opts.hba);
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }

  /**
   * Manage an existing data directory (a restored backup, a copy...). Our port, socket directory
   * and listen address are set in its pgkeep include file; other settings stay as they are.
   */
  static async attach(dataDir: string, opts: LocalClusterAttachOptions = {}): Promise<LocalCluster> {
    const abs = resolve(dataDir);
    const versionFile = join(abs, 'PG_VERSION');
    if (!existsSync(versionFile)) {
      throw new PgkeepError('NOT_FOUND', `${abs} is not a PostgreSQL data directory (no PG_VERSION file)`);
    }
    const major = Number(readFileSync(versionFile, 'utf8').trim());
    const bin = await serverReachableBin({ pgBin: opts.pgBin, major });
    const baseDir = makeBaseDir(opts.tmpDir);
    const cluster = new LocalCluster({
      baseDir,
      dataDir: abs,
      binDir: bin.binDir,
      major: bin.major,
      version: bin.version,
      superuser: opts.superuser ?? 'postgres',
      port: opts.port ?? (await freePort()),
      portIsFixed: opts.port !== undefined,
      removeDataDir: opts.removeDataDir ?? false,
      listen: opts.listen ?? '',
    });
    try {
      if (serverOsUser()) {
        ensureTraversable(abs);
        chownTreeToServerUser(abs);
      }
      chmodSync(abs, 0o700);
      cluster.hba = prepareAuthFiles(cluster.dataDir, cluster.listen);
      cluster.writeOwnSettings();
      await cluster.configure(opts.settings ?? {}, opts.hba);
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }

  /** The Debian layout: the three configuration files moved to `dir`. */
  private moveConfigOut(dir: string): void {
    moveConfigOut(this.dataDir, dir);
    this.configDir = dir;
  }

  /** Write port/socket/listen into the include file and make postgresql.conf include it. */
  private writeOwnSettings(): void {
    writeOwnSettings({
      dataDir: this.dataDir,
      configDir: this.configDir,
      configFile: this.configFile,
      hbaFile: this.hbaFile,
      listen: this.listen,
      port: this._port,
      socketDir: this.socketDir,
    });
  }

  /** postgresql.conf the server reads. */
  get configFile(): string {
    return join(this.configDir ?? this.dataDir, 'postgresql.conf');
  }

  /** pg_hba.conf the server reads. */
  get hbaFile(): string {
    return join(this.configDir ?? this.dataDir, 'pg_hba.conf');
  }

  /**
   * Write settings (into the include file, which wins over postgresql.conf; ALTER SYSTEM still
   * wins over it) and pg_hba.conf lines (put first, so they win). Takes effect on reload() or
   * restart(), as the setting requires.
   */
  async configure(settings: Record<string, ConfValue> = {}, hba?: string[]): Promise<void> {
    if ('port' in settings && typeof settings.port === 'number') this._port = settings.port;
    if (Object.keys(settings).length) updateIncludeFile(this.dataDir, settings);
    if (hba && hba.length) {
      const file = this.hbaFile;
      const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
      writeFileSync(file, `# added by pgkeep's local-cluster manager\n${hba.join('\n')}\n\n${old}`);
      chownTreeToServerUser(file);
    }
  }

  /**
   * Replace pg_hba.conf with exactly these lines (e.g. to test what happens when no rule admits a
   * connection), followed by `local all <superuser> trust` so that query()/exec() keep working.
   * Takes effect on reload().
   */
  async setHba(lines: string[]): Promise<void> {
    const file = this.hbaFile;
    writeFileSync(file, `# written by pgkeep's local-cluster manager\n${[...lines, `local all ${this.superuser} trust`].join('\n')}\n`);
    chownTreeToServerUser(file);
  }

  /** Start the server (pg_ctl start -w). On failure the error carries the tail of the server log. */
  async start(opts: StartOptions = {}): Promise<void> {
    this.checkNotDestroyed();
    if (this._running) return;
    for (let attempt = 1; ; attempt++) {
      const logStart = fileSize(this.logFile);
      const args = pgCtlStartArgs(this.dataDir, this.logFile, this.configDir ? this.configFile : undefined, opts);
      const r = await this.run('pg_ctl', args);
      if (r.code === 0) {
        this._running = true;
        return;
      }
      const log = readFrom(this.logFile, logStart);
      if (!this.portIsFixed && attempt < PORT_RETRIES && isPortConflict(log)) {
        this._port = await freePort();
        updateIncludeFile(this.dataDir, { port: this._port });
        continue;
      }
      // pg_ctl may have left a server that is still starting (timeout): stop it.
      if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.run('pg_ctl', ['stop', '-D', this.dataDir, '-m', 'immediate', '-w']);
      throw startError(this.dataDir, this._port, this.logFile, log || r.stderr || r.stdout);
    }
  }

  /** Stop the server (pg_ctl stop -m MODE -w); no-op when it is not running. */
  async stop(mode: StopMode = 'fast'): Promise<void> {
    if (!existsSync(join(this.dataDir, 'postmaster.pid'))) {
      this._running = false;
      return;
    }
    const r = await this.run('pg_ctl', ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '120']);
    if (r.code !== 0 && existsSync(join(this.dataDir, 'postmaster.pid'))) {
      throw new PgkeepError('SERVER_NOT_READY', `pg_ctl stop -m ${mode} failed for ${this.dataDir}: ${tail(r.stderr || r.stdout, 5)}`);
    }
    this._running = false;
  }

  async restart(opts: StartOptions = {}): Promise<void> {
    await this.stop('fast');
    await this.start(opts);
  }

  /**
   * Re-read configuration files (pg_ctl reload) and wait until the server has done so, so that
   * the next new session sees the new settings and pg_hba.conf rules.
   */
  async reload(): Promise<void> {
    const loadTime = async () => (await this.query<{ t: string }>('select pg_conf_load_time()::text as t'))[0]!.t;
    const before = this._running ? await loadTime().catch(() => undefined) : undefined;
    const r = await this.run('pg_ctl', ['reload', '-D', this.dataDir]);
    if (r.code !== 0) throw new PgkeepError('SERVER_NOT_READY', `pg_ctl reload failed: ${tail(r.stderr || r.stdout, 5)}`);
    if (before === undefined) return;
    for (let i = 0; i < 200; i++) {
      const now = await loadTime().catch(() => undefined);
      if (now !== undefined && now !== before) return;
      await new Promise((res) => setTimeout(res, 25));
    }
  }

  /** Promote a standby (pg_ctl promote -w). */
  async promote(): Promise<void> {
    const r = await this.run('pg_ctl', ['promote', '-D', this.dataDir, '-w', '-t', '120']);
    if (r.code !== 0) throw new PgkeepError('SERVER_NOT_READY', `pg_ctl promote failed: ${tail(r.stderr || r.stdout, 5)}`);
  }

  /** Run one statement (extended protocol when params are given) as the superuser; returns rows. */
  async query<T = any>(sql: string, params?: unknown[], database = 'postgres'): Promise<T[]> {
    return this.withClient(database, async (c) => (await c.query(sql, params as any[])).rows as T[]);
  }

  /** Run several statements (simple protocol) as the superuser. */
  async exec(sql: string, database = 'postgres'): Promise<void> {
    await this.withClient(database, (c) => c.query(sql));
  }

  private withClient<R>(database: string, fn: (c: pg.Client) => Promise<R>): Promise<R> {
    this.checkNotDestroyed();
    return withSuperuserClient({ socketDir: this.socketDir, port: this._port, user: this.superuser, database }, fn);
  }

  /** libpq key=value string reaching the cluster over its unix socket as the superuser. */
  connectionString(database = 'postgres', user = this.superuser): string {
    return `host=${quoteConnValue(this.socketDir)} port=${this._port} user=${quoteConnValue(user)} dbname=${quoteConnValue(database)}`;
  }

  /** ClusterSettings (as the config would give them) for this cluster. */
  connectionSettings(database = 'postgres'): ClusterSettings {
    return { connection: this.connectionString(database), pgdata: this.dataDir, pgBin: this.binDir };
  }

  /**
   * pg_controldata output as a map ("Database cluster state" -> "in production", ...), from the
   * pg_controldata of the cluster's exact major (TOOL_MISSING naming the package when there is none:
   * the npm server binaries do not ship it).
   */
  async controlData(): Promise<Record<string, string>> {
    return (await readControlData(this.dataDir, { pgBin: this.binDir })).fields;
  }

  /**
   * Run psql against the cluster as the superuser (-X, ON_ERROR_STOP); returns stdout.
   * Example: `await c.psql(['-c', 'select 1'])`, `await c.psql(['-f', file], { database: 'app' })`.
   */
  psql(args: string[], opts: { database?: string; input?: string; user?: string } = {}): Promise<string> {
    return runPsql(
      {
        binDir: this.binDir,
        socketDir: this.socketDir,
        port: this._port,
        user: opts.user ?? this.superuser,
        database: opts.database ?? 'postgres',
      },
      args,
      opts.input,
    );
  }

  /** Tail of the server log (for failure messages in tests). */
  logTail(lines = 30): string {
    return existsSync(this.logFile) ? tail(readFileSync(this.logFile, 'utf8'), lines) : '';
  }

  /** Stop the server if it runs and remove the temp directory (and an owned data directory). Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    try {
      await this.stop('immediate');
    } catch {
      // best effort: removal below still frees the disk; the safety net will not retry.
    }
    this.destroyed = true;
    live.delete(this);
    rmSync(this.baseDir, { recursive: true, force: true });
    if (this.removeDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /**
   * Let the cluster outlive this process: the exit-time safety net will neither stop nor remove
   * it (e.g. `pgkeep demo --keep`). The object stays usable; destroy() still works.
   */
  detach(): void {
    live.delete(this);
  }

  /** Run a server program from our bin directory as the server OS user. */
  private run(tool: string, args: string[]): Promise<RunResult> {
    return runProgram(pgToolPath(this.binDir, tool), args, { cwd: this.baseDir });
  }

  private checkNotDestroyed(): void {
    if (this.destroyed) throw new PgkeepError('INTERNAL', `local cluster ${this.baseDir} was destroyed`);
  }

  /** Exit-time cleanup: stop immediately and remove the directories, synchronously. */
  emergencyCleanup(): void {
    if (this.destroyed) return;
    if (existsSync(join(this.dataDir, 'postmaster.pid'))) {
      runProgramSync(pgToolPath(this.binDir, 'pg_ctl'), ['stop', '-D', this.dataDir, '-m', 'immediate', '-w'], { cwd: this.baseDir });
    }
    this._running = false;
    this.destroyed = true;
    live.delete(this);
    if (process.env.PGKEEP_KEEP_CLUSTERS) {
      process.stderr.write(`pgkeep: kept local cluster ${this.baseDir} (PGKEEP_KEEP_CLUSTERS is set)\n`);
      return;
    }
    rmSync(this.baseDir, { recursive: true, force: true });
    if (this.removeDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

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
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { PgkeepError } from '../errors.js';
import type { ClusterSettings } from '../config/types.js';
import { quoteConnValue } from '../config/conninfo.js';
import { findPgBinDir, pgToolPath } from './bin.js';
import { mergeConf, parseConfLines, renderConfLines, type ConfValue } from './conf-file.js';
import { hardenHostTrust, hbaFileText, hbaForCopy, type HbaReport } from './restored-hba.js';
import { chownTreeToServerUser, ensureTraversable, runProgram, runProgramSync, serverOsUser, type RunResult } from './server-user.js';

export type StopMode = 'smart' | 'fast' | 'immediate';
export type HostAuthMethod = 'trust' | 'scram-sha-256' | 'md5' | 'password' | 'reject';

export interface LocalClusterCreateOptions {
  /** Directory with initdb/pg_ctl/postgres (default: PGKEEP_PG_BIN, pg_config, /usr/lib/postgresql). */
  pgBin?: string;
  /** Major version wanted (default: the newest found). */
  major?: number;
  /** initdb --data-checksums (default true). */
  dataChecksums?: boolean;
  /** Settings written to the cluster's include file (e.g. { wal_level: 'replica', fsync: false }). */
  settings?: Record<string, ConfValue>;
  /** pg_hba.conf lines put before initdb's, so they win. */
  hba?: string[];
  /** Extra initdb arguments. */
  initdbArgs?: string[];
  /** Bootstrap superuser name (default "postgres"). */
  superuser?: string;
  /** Password of the superuser (needed when authMethod asks for one). */
  superuserPassword?: string;
  /** Authentication for TCP connections in initdb's pg_hba.conf (default trust). Unix socket: trust. */
  authMethod?: HostAuthMethod;
  /** Fixed TCP port (default: a free one). */
  port?: number;
  /** listen_addresses (default "127.0.0.1"; "" = unix socket only). */
  listen?: string;
  /** Parent of the base directory (default os.tmpdir()). */
  tmpDir?: string;
  /**
   * Keep postgresql.conf, pg_hba.conf and pg_ident.conf in this directory instead of the data
   * directory, as Debian does (/etc/postgresql/<major>/<name>): the server is started with
   * config_file pointing there, and that file sets data_directory, hba_file and ident_file.
   */
  configDir?: string;
}

export interface LocalClusterAttachOptions {
  pgBin?: string;
  /** TCP port to use (default: a free one). */
  port?: number;
  superuser?: string;
  settings?: Record<string, ConfValue>;
  hba?: string[];
  /** destroy() also removes the data directory (default false: only our temp directory). */
  removeDataDir?: boolean;
  /**
   * listen_addresses (default "": unix socket only). With TCP, pg_hba.conf never trusts a host
   * line (restored-hba.ts).
   */
  listen?: string;
  tmpDir?: string;
}

export interface StartOptions {
  /** Wait until the server accepts connections (default true). */
  wait?: boolean;
  /** Seconds pg_ctl waits (default 120). */
  timeoutSeconds?: number;
}

/** The include file pgkeep owns inside PGDATA; postgresql.conf includes it last. */
const INCLUDE_FILE = 'pgkeep-local.conf';
const INCLUDE_LINE = `include_if_exists = '${INCLUDE_FILE}'\t# added by pgkeep's local-cluster manager`;
const PORT_RETRIES = 4;

const live = new Set<LocalCluster>();

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

  private constructor(init: {
    baseDir: string; dataDir: string; binDir: string; major: number; version: string; superuser: string;
    port: number; portIsFixed: boolean; removeDataDir: boolean; listen: string;
  }) {
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
    const bin = await findPgBinDir({ pgBin: opts.pgBin, major: opts.major });
    const baseDir = makeBaseDir(opts.tmpDir);
    const superuser = opts.superuser ?? 'postgres';
    const cluster = new LocalCluster({
      baseDir, dataDir: join(baseDir, 'data'), binDir: bin.binDir, major: bin.major, version: bin.version, superuser,
      port: opts.port ?? (await freePort()), portIsFixed: opts.port !== undefined, removeDataDir: true, listen: opts.listen ?? '127.0.0.1',
    });
    try {
      await cluster.initdb(opts);
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
    const bin = await findPgBinDir({ pgBin: opts.pgBin, major });
    const baseDir = makeBaseDir(opts.tmpDir);
    const cluster = new LocalCluster({
      baseDir, dataDir: abs, binDir: bin.binDir, major: bin.major, version: bin.version, superuser: opts.superuser ?? 'postgres',
      port: opts.port ?? (await freePort()), portIsFixed: opts.port !== undefined, removeDataDir: opts.removeDataDir ?? false,
      listen: opts.listen ?? '',
    });
    try {
      if (serverOsUser()) {
        ensureTraversable(abs);
        chownTreeToServerUser(abs);
      }
      chmodSync(abs, 0o700);
      cluster.hba = cluster.prepareAuthFiles();
      cluster.writeOwnSettings();
      await cluster.configure(opts.settings ?? {}, opts.hba);
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }

  private async initdb(opts: LocalClusterCreateOptions): Promise<void> {
    const method = opts.authMethod ?? 'trust';
    const args = ['-D', this.dataDir, '-U', this.superuser, '--encoding=UTF8', '--locale=C', '--no-sync',
      '--auth-local=trust', `--auth-host=${method}`];
    if (opts.dataChecksums ?? true) args.push('--data-checksums');
    let pwfile: string | undefined;
    if (opts.superuserPassword !== undefined) {
      pwfile = join(this.baseDir, 'pwfile');
      writeFileSync(pwfile, opts.superuserPassword + '\n', { mode: 0o600 });
      chownTreeToServerUser(pwfile);
      args.push(`--pwfile=${pwfile}`);
    } else if (method !== 'trust' && method !== 'reject') {
      throw new PgkeepError('USAGE', `authMethod ${method} needs a superuserPassword`);
    }
    args.push(...(opts.initdbArgs ?? []));
    const r = await this.run('initdb', args);
    if (pwfile) rmSync(pwfile, { force: true });
    if (r.code !== 0) {
      throw new PgkeepError('SERVER_NOT_READY', `initdb failed (exit ${r.code}): ${tail(r.stderr || r.stdout, 15)}`);
    }
  }

  /** The Debian layout: the three configuration files moved to `dir`, which points back at the data directory. */
  private moveConfigOut(dir: string): void {
    mkdirSync(dir, { recursive: true });
    for (const name of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) {
      writeFileSync(join(dir, name), readFileSync(join(this.dataDir, name)));
      rmSync(join(this.dataDir, name));
    }
    appendFileSync(join(dir, 'postgresql.conf'), `data_directory = '${this.dataDir}'\nhba_file = '${join(dir, 'pg_hba.conf')}'\nident_file = '${join(dir, 'pg_ident.conf')}'\n`);
    chownTreeToServerUser(dir);
    ensureTraversable(dir);
    this.configDir = dir;
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
   * A data directory copied from a Debian-style server has no pg_hba.conf/pg_ident.conf (they live
   * in /etc/postgresql): give it ones that let the local superuser in over the private socket (and,
   * with TCP, password logins). The backup's own pg_hba.conf is only hardened: no trust over TCP.
   */
  private prepareAuthFiles(): HbaReport {
    const ident = join(this.dataDir, 'pg_ident.conf');
    if (!existsSync(ident)) {
      writeFileSync(ident, '');
      chownTreeToServerUser(ident);
    }
    const file = join(this.dataDir, 'pg_hba.conf');
    const tcp = this.listen.trim() !== '';
    if (!existsSync(file)) {
      const lines = hbaForCopy(tcp);
      writeFileSync(file, hbaFileText(lines), { mode: 0o600 });
      chownTreeToServerUser(file);
      return { file, action: 'written', lines };
    }
    if (!tcp) return { file, action: 'kept', lines: [] };
    const hardened = hardenHostTrust(readFileSync(file, 'utf8'));
    if (hardened.includes.length > 0) {
      throw new PgkeepError('UNSUPPORTED', `${file} includes other files (${hardened.includes.join('; ')}), which pgkeep cannot check for trust over TCP`, {
        hint: 'start the copy without --listen (unix socket only), or put the included lines into pg_hba.conf itself',
      });
    }
    if (hardened.changed.length === 0) return { file, action: 'kept', lines: [] };
    writeFileSync(file, hardened.text);
    return { file, action: 'hardened', lines: hardened.changed };
  }

  /** Write port/socket/listen into the include file and make postgresql.conf include it. */
  private writeOwnSettings(): void {
    const conf = this.configFile;
    const text = existsSync(conf) ? readFileSync(conf, 'utf8') : '';
    const include = this.configDir ? join(this.dataDir, INCLUDE_FILE) : INCLUDE_FILE;
    if (!text.includes(`include_if_exists = '${include}'`)) {
      appendFileSync(conf, `${text.endsWith('\n') || text === '' ? '' : '\n'}${INCLUDE_LINE.replace(INCLUDE_FILE, include)}\n`);
    }
    this.updateIncludeFile({
      listen_addresses: this.listen,
      port: this._port,
      unix_socket_directories: this.socketDir,
      // A copied postgresql.conf may name the source's files: the ones pgkeep prepared (and reports) are these.
      hba_file: this.hbaFile,
      ident_file: join(this.configDir ?? this.dataDir, 'pg_ident.conf'),
    });
  }

  private updateIncludeFile(settings: Record<string, ConfValue>): void {
    const file = join(this.dataDir, INCLUDE_FILE);
    const current = existsSync(file) ? parseConfLines(readFileSync(file, 'utf8')) : new Map<string, string>();
    mergeConf(current, settings);
    writeFileSync(file, renderConfLines(current, "settings written by pgkeep's local-cluster manager; postgresql.conf includes this file"));
    chownTreeToServerUser(file);
  }

  /**
   * Write settings (into the include file, which wins over postgresql.conf; ALTER SYSTEM still
   * wins over it) and pg_hba.conf lines (put first, so they win). Takes effect on reload() or
   * restart(), as the setting requires.
   */
  async configure(settings: Record<string, ConfValue> = {}, hba?: string[]): Promise<void> {
    if ('port' in settings && typeof settings.port === 'number') this._port = settings.port;
    if (Object.keys(settings).length) this.updateIncludeFile(settings);
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
      const args = ['start', '-D', this.dataDir, '-l', this.logFile, '-t', String(opts.timeoutSeconds ?? 120)];
      args.push(opts.wait === false ? '-W' : '-w');
      if (this.configDir) args.push('-o', `-c config_file=${this.configFile}`);
      const r = await this.run('pg_ctl', args);
      if (r.code === 0) {
        this._running = true;
        return;
      }
      const log = readFrom(this.logFile, logStart);
      if (!this.portIsFixed && attempt < PORT_RETRIES && /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(log)) {
        this._port = await freePort();
        this.updateIncludeFile({ port: this._port });
        continue;
      }
      // pg_ctl may have left a server that is still starting (timeout): stop it.
      if (existsSync(join(this.dataDir, 'postmaster.pid'))) await this.run('pg_ctl', ['stop', '-D', this.dataDir, '-m', 'immediate', '-w']);
      const reason = startFailureReason(log);
      throw new PgkeepError('SERVER_NOT_READY', `PostgreSQL in ${this.dataDir} did not start (port ${this._port})${reason ? `: ${reason}` : ''}`, {
        hint: `server log ${this.logFile}:\n${tail(log || r.stderr || r.stdout, 20)}`,
        details: { dataDir: this.dataDir, port: this._port, logFile: this.logFile },
      });
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

  private async withClient<R>(database: string, fn: (c: pg.Client) => Promise<R>): Promise<R> {
    this.checkNotDestroyed();
    // Socket connections as the superuser are trusted by initdb's pg_hba.conf (and setHba keeps that).
    const client = new pg.Client({
      host: this.socketDir, port: this._port, user: this.superuser, database, password: async () => undefined,
      ssl: false, application_name: 'pgkeep-local-cluster',
    } as unknown as pg.ClientConfig);
    client.on('error', () => {});
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** libpq key=value string reaching the cluster over its unix socket as the superuser. */
  connectionString(database = 'postgres', user = this.superuser): string {
    return `host=${quoteConnValue(this.socketDir)} port=${this._port} user=${quoteConnValue(user)} dbname=${quoteConnValue(database)}`;
  }

  /** ClusterSettings (as the config would give them) for this cluster. */
  connectionSettings(database = 'postgres'): ClusterSettings {
    return { connection: this.connectionString(database), pgdata: this.dataDir, pgBin: this.binDir };
  }

  /** pg_controldata output as a map ("Database cluster state" -> "in production", ...). */
  async controlData(): Promise<Record<string, string>> {
    const r = await this.run('pg_controldata', ['-D', this.dataDir]);
    if (r.code !== 0) throw new PgkeepError('SERVER_NOT_READY', `pg_controldata failed: ${tail(r.stderr, 5)}`);
    return parseControlLines(r.stdout);
  }

  /**
   * Run psql against the cluster as the superuser (-X, ON_ERROR_STOP); returns stdout.
   * Example: `await c.psql(['-c', 'select 1'])`, `await c.psql(['-f', file], { database: 'app' })`.
   */
  async psql(args: string[], opts: { database?: string; input?: string; user?: string } = {}): Promise<string> {
    const r = await runProgram(pgToolPath(this.binDir, 'psql'), [
      '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', this.socketDir, '-p', String(this._port),
      '-U', opts.user ?? this.superuser, '-d', opts.database ?? 'postgres', ...args,
    ], { asServerUser: false, input: opts.input, env: { PGCONNECT_TIMEOUT: '30' } });
    if (r.code !== 0) throw new PgkeepError('SERVER_NOT_READY', `psql ${args.join(' ')} failed (exit ${r.code}): ${tail(r.stderr, 10)}`);
    return r.stdout;
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

/** Parse pg_controldata's "Name:   value" lines. */
function parseControlLines(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

function makeBaseDir(parent?: string): string {
  const base = mkdtempSync(join(parent ?? tmpdir(), 'pgkeep-cluster-'));
  // The socket's directory is private to the server's OS user (and root): whoever may enter it may connect.
  mkdirSync(join(base, 'socket'), { mode: 0o700 });
  chmodSync(join(base, 'socket'), 0o700);
  if (serverOsUser()) {
    ensureTraversable(base);
    chownTreeToServerUser(base);
  }
  return base;
}

/** A TCP port that was free a moment ago on 127.0.0.1 (start() retries if it is taken meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** The server log lines that say why it did not start: the FATAL one, and what it refers to. */
function startFailureReason(log: string): string | undefined {
  const lines = log.split('\n');
  const i = lines.findIndex((l) => /\b(FATAL|PANIC):/.test(l));
  if (i < 0) return undefined;
  const strip = (l: string) => l.replace(/^.*?\b(LOG|FATAL|PANIC|ERROR):\s+/, '$1: ');
  // "configuration file ... contains errors" follows the line naming the bad setting.
  if (/contains errors/.test(lines[i]!) && i > 0) return `${strip(lines[i - 1]!)}; ${strip(lines[i]!)}`;
  return strip(lines[i]!);
}

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

let netInstalled = false;

/** Clusters a process forgot to destroy are stopped (immediate) and removed when it exits. */
function installSafetyNet(): void {
  if (netInstalled) return;
  netInstalled = true;
  const cleanupAll = () => {
    for (const c of [...live]) {
      try {
        c.emergencyCleanup();
      } catch {
        // keep going: other clusters still need stopping
      }
    }
  };
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      cleanupAll();
      // If nobody else handles the signal, behave as if we had not caught it.
      if (process.listenerCount(sig) === 1) {
        process.off(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.on(sig, onSignal);
  }
}

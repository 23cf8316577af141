/**
 * Gathering what doctor needs to know, once, with all the I/O: the server's settings and the
 * role's privileges over one connection, pg_hba rules (or a trial replication connection),
 * the data directory on this machine, and the client tools. Checks then only read the result.
 */
import { constants } from 'node:fs';
import { access, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ClusterSettings, RepoSettings } from '../config/types.js';
import { PgkeepError, toPgkeepError } from '../errors.js';
import {
  archiverStats,
  BACKUP_SETTINGS,
  readHbaRules,
  readSettings,
  replicationUsage,
  roleFacts,
  serverInfo,
  type Queryable,
  type ServerInfo,
} from '../pg/catalog.js';
import { connect, describeConnection, resolveConnection } from '../pg/connect.js';
import { readControlData } from '../pg/control.js';
import { clusterLayout } from '../pg/layout.js';
import { lookupOsUser } from '../pg/server-user.js';
import { archiveAccessFacts, dataDirOwner } from './archive-access.js';
import { probeArchive } from './archive-probe.js';
import type { AskPassphrase } from '../repo/passphrase.js';
import { archiveTarget } from './archive-target.js';
import { isPgkeepArchiveCommand } from './checks/archive.js';
import { setting } from './checks/make.js';
import { systemIdFromPgControl } from '../pg/wal/identify.js';
import { readAccessFacts, settingSources, slotFacts } from './queries.js';
import { serverProcessFacts } from './server-process.js';
import { findPgTool, type PgTool } from '../pg/bin.js';
import { LOGICAL_TOOLS } from './checks/logical.js';
import { MIN_MAJOR } from './checks/server.js';
import type { DoctorFacts, DoctorMethod, PgdataFacts } from './types.js';

export interface GatherOptions {
  methods: DoctorMethod[];
  clusterName: string;
  configFile?: string;
  /** doctor's repository settings: checked when archive_command itself names none. */
  repo?: RepoSettings;
  /** Run the end-to-end archive check (switch WAL, wait for it in the repository). */
  checkArchive?: boolean;
  /** Bound of that wait (default 60 s). */
  archiveTimeoutMs?: number;
  /** How to ask for the repository passphrase in that check. */
  askPassphrase?: AskPassphrase;
  signal?: AbortSignal;
}

export async function gatherFacts(settings: ClusterSettings, opts: GatherOptions): Promise<DoctorFacts> {
  const params = resolveConnection(settings);
  const facts: DoctorFacts = {
    methods: opts.methods,
    target: describeConnection(params),
    socket: params.isSocket,
    user: params.user,
    clusterName: opts.clusterName,
    configFile: opts.configFile,
  };
  const wants = (...m: DoctorMethod[]) => m.some((x) => opts.methods.includes(x));

  await readServerFacts(settings, facts, opts);
  if (wants('stream') && facts.server && facts.hbaRules === null) {
    facts.replicationProbe = await probeReplication(settings, opts.signal);
  }
  if (wants('local', 'cold')) facts.pgdata = await pgdataFacts(settings, facts.server);
  if (!facts.layout && settings.pgdata) {
    facts.layout = await layoutFromPgdata(settings.pgdata, settings.pgBin);
    setOsUser(facts, settings.pgdata);
  }
  if (facts.connectionError && settings.pgdata) facts.serverProcess = await serverProcessFacts(settings.pgdata, settings.pgBin);
  if (wants('logical') && facts.server && facts.server.major >= MIN_MAJOR) facts.tools = await findTools(settings, facts.server.major);
  return facts;
}

async function readServerFacts(settings: ClusterSettings, facts: DoctorFacts, opts: GatherOptions): Promise<void> {
  let client;
  try {
    client = await connect(settings, { signal: opts.signal, applicationName: 'pgkeep doctor' });
  } catch (e) {
    const err = toPgkeepError(e);
    if (err.code === 'INTERRUPTED') throw err;
    facts.connectionError = err;
    return;
  }
  try {
    facts.server = await serverInfo(client);
    // an unsupported major fails the version check; its catalogs may lack the columns read below
    if (facts.server.major < MIN_MAJOR) return;
    facts.settings = await readSettings(client);
    facts.settingSources = await settingSources(client, BACKUP_SETTINGS);
    facts.role = await roleFacts(client, facts.server.major);
    facts.usage = await replicationUsage(client);
    if (opts.methods.includes('stream')) facts.hbaRules = await readHbaRules(client);
    const dataDir = facts.server.dataDirectory ?? settings.pgdata;
    if (dataDir) {
      facts.layout = clusterLayout({
        dataDirectory: dataDir,
        configFile: setting(facts, 'config_file'),
        hbaFile: setting(facts, 'hba_file'),
        major: facts.server.major,
        binDir: await pgCtlDir(facts.server.major, settings.pgBin),
      });
      setOsUser(facts, dataDir);
    }
    if (opts.methods.some((m) => m === 'archive' || m === 'stream')) facts.slots = await slotFacts(client, facts.server.inRecovery);
    if (opts.methods.includes('logical')) facts.readAccess = await readAccessFacts(client, facts.server.major);
    if (opts.methods.includes('archive')) {
      facts.archiver = await archiverStats(client);
      await archiveFacts(client, settings, facts, opts, dataDir);
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/** What archive_command will use, whether the server's OS user can reach it, and (asked) the end-to-end check. */
async function archiveFacts(
  client: Queryable,
  settings: ClusterSettings,
  facts: DoctorFacts,
  opts: GatherOptions,
  dataDir: string | undefined,
): Promise<void> {
  const cmd = setting(facts, 'archive_command');
  const mode = setting(facts, 'archive_mode');
  if (cmd === undefined) return;
  // Files of this host (repository, postmaster.pid, /proc, the log) say something only when the
  // server runs here: its data directory's pg_control must carry the server's system identifier.
  const local = dataDir !== undefined && (await sameSystem(dataDir, facts.server!.systemIdentifier, facts.socket));
  const here = local ? dataDir : undefined;
  const user = (here ? dataDirOwner(here) : undefined) ?? lookupOsUser('postgres');
  const target = await archiveTarget(cmd, here, user?.home, {
    repo: opts.repo,
    clusterName: opts.clusterName,
    configFile: opts.configFile,
  });
  if (mode !== 'off' && isPgkeepArchiveCommand(cmd)) {
    facts.archiveAccess = !local
      ? {
          osUser: user?.name ?? 'postgres',
          checks: [],
          skipped: 'the server does not run on this host (its data directory is not here): run doctor on the database host',
        }
      : user
        ? await archiveAccessFacts(target, user)
        : undefined;
  }
  const streamed = (facts.slots ?? []).some((sl) => sl.type === 'physical' && sl.active);
  if (opts.checkArchive && mode === 'off' && !streamed) {
    facts.archiveProbe = {
      ok: false,
      waitedMs: 0,
      timeoutMs: opts.archiveTimeoutMs ?? 60_000,
      error: 'archive_mode is off and no replication slot is streaming WAL, so no segment can reach the repository',
    };
  } else if (opts.checkArchive) {
    facts.archiveProbe = await probeArchive(client, target, {
      timeoutMs: opts.archiveTimeoutMs ?? 60_000,
      systemIdentifier: facts.server!.systemIdentifier,
      dataDirectory: here ?? null,
      layout: facts.layout,
      signal: opts.signal,
      inRecovery: facts.server!.inRecovery,
      askPassphrase: opts.askPassphrase,
    });
  }
}

/** Is dataDir this server's data directory on this host? Unreadable pg_control: a unix socket says local. */
async function sameSystem(dataDir: string, systemId: string | null, socket: boolean): Promise<boolean> {
  try {
    const id = systemIdFromPgControl(await readFile(join(dataDir, 'global', 'pg_control')));
    return systemId === null ? socket : id === systemId;
  } catch {
    return socket;
  }
}

function setOsUser(facts: DoctorFacts, dataDir: string): void {
  const owner = dataDirOwner(dataDir);
  if (!owner) return;
  facts.osUser = owner.name;
  if (process.getuid?.() !== owner.uid) facts.commandUser = owner.name;
}

/** The layout from a data directory alone (the server unreachable): its PG_VERSION gives the major. */
async function layoutFromPgdata(pgdata: string | undefined, pgBin: string | undefined): Promise<DoctorFacts['layout']> {
  if (!pgdata) return undefined;
  const major = Number((await readFile(join(pgdata, 'PG_VERSION'), 'utf8').catch(() => '')).trim());
  if (!major) return undefined;
  const conf = join(pgdata, 'postgresql.conf');
  const inside = await stat(conf).then(
    () => true,
    () => false,
  );
  return clusterLayout({ dataDirectory: pgdata, configFile: inside ? conf : undefined, major, binDir: await pgCtlDir(major, pgBin) });
}

/** Where the server's pg_ctl is (often not on PATH: /usr/lib/postgresql/<major>/bin). */
async function pgCtlDir(major: number, pgBin: string | undefined): Promise<string | undefined> {
  try {
    return dirname((await findPgTool('pg_ctl', { exactMajor: major, pgBin })).path);
  } catch {
    return undefined;
  }
}

/** Open (and close) a replication connection: proves pg_hba.conf admits it when the rules cannot be read. */
async function probeReplication(settings: ClusterSettings, signal?: AbortSignal): Promise<DoctorFacts['replicationProbe']> {
  try {
    const c = await connect(settings, { replication: true, signal, applicationName: 'pgkeep doctor' });
    await c.end().catch(() => {});
    return { ok: true };
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause;
    return { ok: false, message: String(cause?.message ?? (e as Error).message) };
  }
}

async function pgdataFacts(settings: ClusterSettings, server: ServerInfo | undefined): Promise<PgdataFacts> {
  const facts: PgdataFacts = { configured: settings.pgdata };
  if (server?.dataDirectory) facts.serverRealpath = await realpath(server.dataDirectory).catch(() => undefined);
  if (!settings.pgdata) return facts;
  const dir = settings.pgdata;
  try {
    facts.realpath = await realpath(dir);
  } catch (e) {
    facts.problem = describeFsError(e, 'does not exist');
    return facts;
  }
  try {
    await access(dir, constants.R_OK | constants.X_OK);
    await access(join(dir, 'global', 'pg_control'), constants.R_OK);
  } catch (e) {
    facts.problem =
      (e as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'is not a PostgreSQL data directory (no global/pg_control)'
        : describeFsError(e, 'is not readable');
    return facts;
  }
  try {
    facts.control = await readControlData(dir, { pgBin: settings.pgBin });
  } catch (e) {
    const err = toPgkeepError(e);
    facts.controlError = err.message;
    if (err.code === 'TOOL_MISSING' && typeof err.details?.exactMajor === 'number') facts.controlToolMajor = err.details.exactMajor;
  }
  return facts;
}

function describeFsError(e: unknown, fallback: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'is not readable by this process (permission denied)';
  return `${fallback} (${code ?? (e as Error).message})`;
}

async function findTools(settings: ClusterSettings, major: number): Promise<Record<string, PgTool | PgkeepError>> {
  const out: Record<string, PgTool | PgkeepError> = {};
  for (const name of LOGICAL_TOOLS) {
    try {
      out[name] = await findPgTool(name, { minMajor: major, pgBin: settings.pgBin });
    } catch (e) {
      out[name] = toPgkeepError(e);
    }
  }
  return out;
}

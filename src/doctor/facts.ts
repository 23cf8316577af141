/**
 * Gathering what doctor needs to know, once, with all the I/O: the server's settings and the
 * role's privileges over one connection, pg_hba rules (or a trial replication connection),
 * the data directory on this machine, and the client tools. Checks then only read the result.
 */
import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClusterSettings } from '../config/types.js';
import { PgkeepError, toPgkeepError } from '../errors.js';
import {
  archiverStats, readHbaRules, readSettings, replicationUsage, roleFacts, serverInfo, type ServerInfo,
} from '../pg/catalog.js';
import { connect, describeConnection, resolveConnection } from '../pg/connect.js';
import { readControlData } from '../pg/control.js';
import { findPgTool, type PgTool } from '../pg/tools.js';
import { LOGICAL_TOOLS } from './checks/logical.js';
import type { DoctorFacts, DoctorMethod, PgdataFacts } from './types.js';

export interface GatherOptions {
  methods: DoctorMethod[];
  clusterName: string;
  configFile?: string;
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
  if (wants('logical') && facts.server) facts.tools = await findTools(settings, facts.server.major);
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
    facts.settings = await readSettings(client);
    facts.role = await roleFacts(client, facts.server.major);
    facts.usage = await replicationUsage(client);
    if (opts.methods.includes('stream')) facts.hbaRules = await readHbaRules(client);
    if (opts.methods.includes('archive')) facts.archiver = await archiverStats(client);
  } finally {
    await client.end().catch(() => {});
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
    facts.problem = (e as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'is not a PostgreSQL data directory (no global/pg_control)'
      : describeFsError(e, 'is not readable');
    return facts;
  }
  try {
    facts.control = await readControlData(dir, { pgBin: settings.pgBin });
  } catch (e) {
    facts.controlError = toPgkeepError(e).message;
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

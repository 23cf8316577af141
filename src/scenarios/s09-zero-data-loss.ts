/**
 * Scenario 9: zero data loss. The same primary ships its WAL two ways at once: archive_command
 * (a finished segment at a time) into repository A, and `pgkeep wal stream --synchronous` as a
 * synchronous standby into repository B. Twenty orders are committed, one per transaction; then
 * the host is lost (immediate stop, pg_wal gone with it). Each repository's WAL is read back and
 * the commit records of those twenty transactions are counted: that is each method's RPO.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PgkeepError } from '../errors.js';
import { walObjectName } from '../holdings/index.js';
import { walFileStartLsn } from '../pg/wal-name.js';
import { WalRecordScanner, type WalEvent } from '../pg/wal/records.js';
import { Repository } from '../repo/index.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { ARCHIVING_CONF, BACKUP_ROLE, REPLICATION_HBA } from './common-prereqs.js';
import { DEMO_REPO_CLUSTER, need, one, setUpArchiving } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { shopClusterStep } from './shop-steps.js';
import { SHOP_DATABASE } from './shop.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

const ORDERS = 20;
const APP = 'pgkeep';

interface State extends DemoState {
  streamRepoDir?: string;
  streamer?: ChildProcess;
  streamerLog?: string;
  xids?: string[];
  segment?: string;
  systemId?: string;
  lastArchivedAt?: number;
  lostAt?: number;
  inArchive?: number;
  inStream?: number;
  commitMs?: number;
}

/** Commit records of `xids` in a WAL object of the repository (0 when the object is not there). */
async function commitsIn(repo: Repository, systemId: string, file: string, xids: string[]): Promise<number> {
  const data = await repo.getObject(walObjectName(DEMO_REPO_CLUSTER, systemId, file)).catch(() => undefined);
  if (!data) return 0;
  const found: WalEvent[] = [];
  new WalRecordScanner((e) => found.push(e)).segment(data, walFileStartLsn(file.replace('.partial', '')));
  const committed = new Set(found.flatMap((e) => (e.kind === 'commit' ? [String(e.xid)] : [])));
  return xids.filter((x) => committed.has(x)).length;
}

async function waitUntil(what: string, seconds: number, probe: () => Promise<boolean>, hint: () => string): Promise<void> {
  for (const deadline = Date.now() + seconds * 1000; !(await probe()); ) {
    if (Date.now() > deadline) throw new PgkeepError('SERVER_NOT_READY', `${what}: not within ${seconds} s`, { hint: hint() });
    await new Promise((r) => setTimeout(r, 100));
  }
}

const STEPS: NamedStep<State>[] = [
  shopClusterStep('create-cluster', 'The primary: a throwaway cluster with the shop', 'initdb, a free port; the shop loaded.'),
  {
    name: 'archiving',
    title: 'Way 1: archive_command = pgkeep wal push %p, into repository A',
    narration: () => 'The archiver hands over a segment once it is full (16 MB) or archive_timeout closes it.',
    run: async (s) => {
      const a = (await setUpArchiving(s)) as { repository: string };
      return { lines: [`repository A: ${a.repository}`] };
    },
  },
  {
    name: 'stream',
    title: 'Way 2: pgkeep wal stream --slot pgkeep --create-slot --synchronous, into repository B',
    narration: () =>
      'The receiver connects over the replication protocol like a standby, stores the segment being written as a .partial ' +
      "as soon as the stream is idle, and only then reports it flushed. With synchronous_standby_names = 'pgkeep', a commit " +
      'returns to the client only once its WAL is in repository B.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      s.streamRepoDir = join(need(s.workDir, 'work directory'), 'stream-repo');
      mkdirSync(s.streamRepoDir);
      await (await Repository.init(new PosixDriver(s.streamRepoDir), { jobs: 2 })).close();
      const pgkeep = fileURLToPath(new URL('../../bin/pgkeep.js', import.meta.url));
      const args = [pgkeep, '--repo', s.streamRepoDir, '--cluster', DEMO_REPO_CLUSTER, '-d', c.connectionString(), 'wal', 'stream'];
      const child = spawn(process.execPath, [...args, '--slot', APP, '--create-slot', '--synchronous', '--application-name', APP], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      s.streamer = child;
      s.streamerLog = '';
      child.stderr?.on('data', (d: Buffer) => {
        s.streamerLog = (s.streamerLog + d.toString()).slice(-4000);
      });
      await c.query(`ALTER SYSTEM SET synchronous_standby_names = '${APP}'`);
      await c.query('SELECT pg_reload_conf()');
      const syncState = async () =>
        (await c.query<{ s: string | null }>('SELECT max(sync_state) AS s FROM pg_stat_replication WHERE application_name = $1', [APP]))[0]
          ?.s;
      await waitUntil(
        'the receiver as the synchronous standby',
        60,
        async () => (await syncState()) === 'sync',
        () => `receiver: ${s.streamerLog}`,
      );
      return { lines: [`repository B: ${s.streamRepoDir}`, `pg_stat_replication: ${APP} is the synchronous standby (sync_state = sync)`] };
    },
  },
  {
    name: 'orders',
    title: `${ORDERS} orders, one transaction each`,
    narration: () => 'Each commit waits for the receiver: that wait is the price of zero data loss, measured here.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      const t0 = performance.now();
      s.xids = [];
      for (let i = 0; i < ORDERS; i++) {
        const { x } = await one<{ x: string }>(
          c,
          'WITH o AS (INSERT INTO orders (customer_id, product_id) VALUES (1, 1) RETURNING 1) SELECT txid_current()::text AS x FROM o',
        );
        s.xids.push(x);
      }
      s.commitMs = (performance.now() - t0) / ORDERS;
      const a = await one<{ seg: string; at: string | null; sys: string }>(
        c,
        'SELECT pg_walfile_name(pg_current_wal_lsn()) AS seg, last_archived_time::text AS at, ' +
          '(SELECT system_identifier::text FROM pg_control_system()) AS sys FROM pg_stat_archiver',
        'postgres',
      );
      s.segment = a.seg;
      s.systemId = a.sys;
      s.lastArchivedAt = a.at ? Date.parse(a.at.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')) : undefined;
      return { lines: [`${ORDERS} commits, ${s.commitMs.toFixed(1)} ms each on average; all in WAL segment ${a.seg}`] };
    },
  },
  {
    name: 'host-lost',
    title: 'The host is lost: the server stops at once, its pg_wal with it',
    narration: () => 'An immediate stop stands for the power cut; nothing more is archived or streamed. The receiver is stopped too.',
    run: async (s) => {
      s.lostAt = Date.now();
      const c = need(s.cluster, 'cluster');
      await c.stop('immediate');
      const child = need(s.streamer, 'receiver');
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return { lines: ['primary stopped (immediate); receiver stopped'] };
    },
  },
  {
    name: 'count',
    title: 'What each repository holds of the twenty commits',
    narration: () => "Each repository's WAL for that segment is read back and scanned for the commit records of the twenty transactions.",
    run: async (s) => {
      const seg = need(s.segment, 'segment');
      const sys = need(s.systemId, 'system id');
      const xids = need(s.xids, 'transactions');
      s.inArchive = await commitsIn(need(s.repo, 'repository A'), sys, seg, xids);
      const b = await Repository.open(new PosixDriver(need(s.streamRepoDir, 'repository B')), { jobs: 2 });
      try {
        s.inStream = Math.max(await commitsIn(b, sys, `${seg}.partial`, xids), await commitsIn(b, sys, seg, xids));
      } finally {
        await b.close();
      }
      return {
        inArchive: s.inArchive,
        inStream: s.inStream,
        lines: [
          `repository A (archive_command): ${s.inArchive} of ${ORDERS} commits (segment ${seg} was never full, so never archived)`,
          `repository B (wal stream --synchronous): ${s.inStream} of ${ORDERS} commits (in ${seg}.partial)`,
        ],
      };
    },
  },
];

async function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  const state: State = { opts };
  try {
    return await measure(state);
  } finally {
    // The receiver is this run's child: never leave it behind (a failed step, an interrupt).
    if (state.streamer && state.streamer.exitCode === null && state.streamer.signalCode === null) state.streamer.kill('SIGKILL');
  }
}

function measure(state: State): Promise<ScenarioResult> {
  return runScenarioSteps<State>('zero-data-loss', STEPS, state, (st) => {
    const archiveRpo = st.lastArchivedAt !== undefined ? (need(st.lostAt, 'loss') - st.lastArchivedAt) / 1000 : undefined;
    return {
      rpo: {
        seconds: st.inStream === ORDERS ? 0 : (need(st.lostAt, 'loss') - (st.lastArchivedAt ?? 0)) / 1000,
        meaning:
          `with wal stream --synchronous: ${ORDERS - (st.inStream ?? 0)} commits lost; with archiving alone: ` +
          `${ORDERS - (st.inArchive ?? 0)} lost, ${archiveRpo?.toFixed(1) ?? '?'} s since the last archived segment`,
      },
      rto: {
        seconds: 0,
        meaning:
          'not measured here (the recovery itself is scenario 7, disaster-recovery); the cost measured is commit latency: ' +
          `${st.commitMs?.toFixed(1)} ms`,
      },
      checks: [
        { what: 'repository B holds every commit', ok: st.inStream === ORDERS },
        { what: 'repository A lacks the commits of the unfinished segment', ok: st.inArchive === 0 },
      ],
    };
  });
}

export const ZERO_DATA_LOSS: Scenario = {
  number: 9,
  name: 'zero-data-loss',
  title: 'Zero data loss: wal stream --synchronous against plain archiving',
  situation:
    'Payments: not one committed transaction may be lost if the host dies, even between two archived segments. A little ' +
    'more latency per commit is acceptable.',
  fits: {
    method: 'pgkeep wal stream --slot --synchronous as a synchronous standby (synchronous_standby_names), beside archiving',
    why: 'A commit returns only once its WAL is stored in the repository: the loss on a crash is zero, at the cost of one round trip per commit.',
  },
  notThese: [
    { method: 'archive_command alone', why: 'loses what sits in the unfinished segment: up to archive_timeout of commits.' },
    { method: 'wal stream without --synchronous', why: 'loses a fraction of a second of commits, the receiver lag; cheaper per commit.' },
    {
      method: 'a synchronous physical standby',
      why: 'zero loss as well, but a second server; the repository is where backups live anyway.',
    },
  ],
  prerequisites: {
    postgresqlConf: [...ARCHIVING_CONF, "synchronous_standby_names = 'pgkeep'", 'synchronous_commit = on', 'max_wal_senders = 10'],
    pgHba: REPLICATION_HBA,
    roles: [BACKUP_ROLE],
    schedule: 'pgkeep wal stream runs all the time (the agent supervises it); if it stops, commits wait: monitor it',
  },
  copied: [
    { what: 'WAL records as they are written', from: 'the server, over the replication protocol (START_REPLICATION from the slot)' },
    { what: 'finished segments', from: "the server's pg_wal, by archive_command" },
  ],
  commands: ['pgkeep wal stream --slot pgkeep --create-slot --synchronous --application-name pgkeep'],
  needsClientTools: [],
  run,
};

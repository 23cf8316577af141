/**
 * Scenario 6: a standby built from a backup. The primary gets a physical replication slot; the
 * base backup is restored into a new directory with standby.signal, primary_conninfo and
 * primary_slot_name; the standby starts, catches up from the archive and then streams. A row
 * written on the primary is timed until the standby shows it (the replication lag: what a
 * failover would lose right now), and the standby is promoted (the failover time).
 */
import { renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../errors.js';
import { LocalCluster } from '../pg/local-cluster.js';
import { restore } from '../restore/index.js';
import { ARCHIVING_CONF, BACKUP_ROLE, REPLICATION_HBA } from './common-prereqs.js';
import { DEMO_REPO_CLUSTER, need, one } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { archiveAndBackupStep, shopClusterStep } from './shop-steps.js';
import { SHOP_DATABASE } from './shop.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

const SLOT = 'standby1';

interface State extends DemoState {
  standby?: LocalCluster;
  streaming?: { state: string; sync: string };
  lagSeconds?: number;
  seenOnStandby?: boolean;
  promoteSeconds?: number;
  writableAfterPromote?: boolean;
}

/** Poll `probe` every 50 ms until it is true; SERVER_NOT_READY saying `what` after `seconds`. */
async function waitFor(what: string, seconds: number, probe: () => Promise<boolean>, signal?: AbortSignal): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    signal?.throwIfAborted();
    if (await probe()) return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new PgkeepError('SERVER_NOT_READY', `${what}: not within ${seconds} s`);
}

const STEPS: NamedStep<State>[] = [
  shopClusterStep('create-cluster', 'The primary: a throwaway cluster with the shop', 'initdb, a free port; the shop loaded.'),
  archiveAndBackupStep(
    'WAL archiving and a base backup',
    'The standby will start from this backup and fetch the WAL after it from the archive, then from the stream.',
  ),
  {
    name: 'slot',
    title: "A physical replication slot on the primary: SELECT pg_create_physical_replication_slot('standby1')",
    narration: () => 'The slot makes the primary keep every WAL segment the standby has not confirmed, even while it is down.',
    run: async (s) => {
      await need(s.cluster, 'cluster').query(`SELECT pg_create_physical_replication_slot('${SLOT}')`);
      return { lines: [`slot ${SLOT} created`] };
    },
  },
  {
    name: 'restore-standby',
    title: 'Restore the backup as a standby: standby.signal, primary_conninfo, primary_slot_name',
    narration: () =>
      "pgkeep restore writes the backup's files into a new directory with restore_command (pgkeep wal get) and the " +
      'connection settings; standby.signal (instead of recovery.signal) makes the server stay in recovery and stream ' +
      'from the primary once the archive has nothing newer.',
    run: async (s) => {
      const primary = need(s.cluster, 'cluster');
      const dir = join(need(s.workDir, 'work directory'), 'standby');
      const conninfo = `${primary.connectionString()} application_name=${SLOT}`;
      const r = await restore({
        repo: need(s.repo, 'repository'),
        cluster: DEMO_REPO_CLUSTER,
        to: dir,
        access: { repo: need(s.repoDir, 'repository'), cluster: DEMO_REPO_CLUSTER },
        recovery: { fromArchive: true, settings: { primary_conninfo: conninfo, primary_slot_name: SLOT, hot_standby: 'on' } },
        archiveMode: 'off',
        sync: false,
        signal: s.opts.signal,
      });
      if (existsSync(join(dir, 'recovery.signal'))) renameSync(join(dir, 'recovery.signal'), join(dir, 'standby.signal'));
      return {
        lines: [
          `${r.stats.files} files from the backup into ${dir}`,
          `primary_conninfo = '${conninfo}'`,
          `primary_slot_name = '${SLOT}'; standby.signal`,
        ],
      };
    },
  },
  {
    name: 'start-standby',
    title: 'Start the standby and watch it stream',
    narration: () => 'The standby replays the archived WAL, then connects to the primary: pg_stat_replication on the primary shows it.',
    run: async (s) => {
      const st = await LocalCluster.attach(join(need(s.workDir, 'work directory'), 'standby'), { listen: '', pgBin: s.opts.pgBin });
      s.standby = st;
      s.extra = [{ label: 'the standby', cluster: st }];
      await st.start();
      const primary = need(s.cluster, 'cluster');
      const seconds = await waitFor(
        'the standby streaming',
        60,
        async () => {
          const rows = await primary.query<{ state: string }>(`SELECT state FROM pg_stat_replication WHERE application_name = '${SLOT}'`);
          return rows[0]?.state === 'streaming';
        },
        s.opts.signal,
      );
      s.streaming = await one<{ state: string; sync: string }>(
        primary,
        `SELECT state, sync_state AS sync FROM pg_stat_replication WHERE application_name = '${SLOT}'`,
        'postgres',
      );
      const { rec } = await one<{ rec: boolean }>(st, 'SELECT pg_is_in_recovery() AS rec', 'postgres');
      return {
        lines: [
          `pg_stat_replication: ${SLOT} ${s.streaming.state} (${s.streaming.sync}) after ${seconds.toFixed(1)} s`,
          `standby in recovery: ${rec}`,
        ],
      };
    },
  },
  {
    name: 'lag',
    title: 'A write on the primary, timed until the standby shows it',
    narration: () => 'The lag is what a failover would lose at that moment: streaming replication is asynchronous by default.',
    run: async (s) => {
      const primary = need(s.cluster, 'cluster');
      const st = need(s.standby, 'standby');
      await primary.exec(
        "INSERT INTO customers (name, email, city) VALUES ('Standby watcher', 'watcher@example.com', 'Oslo')",
        SHOP_DATABASE,
      );
      s.lagSeconds = await waitFor(
        'the row on the standby',
        30,
        async () => {
          const r = await st.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM customers WHERE email = 'watcher@example.com'",
            [],
            SHOP_DATABASE,
          );
          return r[0]?.n === 1;
        },
        s.opts.signal,
      );
      s.seenOnStandby = true;
      return { lagSeconds: s.lagSeconds, lines: [`the row appeared on the standby after ${(s.lagSeconds * 1000).toFixed(0)} ms`] };
    },
  },
  {
    name: 'promote',
    title: 'Failover: SELECT pg_promote() on the standby',
    narration: () => 'The primary is gone (here: stopped); the standby leaves recovery and accepts writes.',
    run: async (s) => {
      await need(s.cluster, 'cluster').stop('immediate');
      const st = need(s.standby, 'standby');
      const t0 = performance.now();
      await st.query('SELECT pg_promote(true, 60)');
      s.promoteSeconds = (performance.now() - t0) / 1000;
      await st.exec("INSERT INTO customers (name, email) VALUES ('After failover', 'after@example.com')", SHOP_DATABASE);
      s.writableAfterPromote = true;
      return { lines: [`promoted in ${s.promoteSeconds.toFixed(2)} s; a write on the new primary succeeded`] };
    },
  },
];

function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  return runScenarioSteps<State>('standby', STEPS, { opts }, (st) => ({
    rpo: {
      seconds: st.lagSeconds ?? 0,
      meaning: 'the replication lag measured: writes the standby had not received when the primary died',
    },
    rto: { seconds: st.promoteSeconds ?? 0, meaning: 'pg_promote() on the standby (clients must then be pointed at it)' },
    checks: [
      { what: 'the standby streamed from the primary', ok: st.streaming?.state === 'streaming' },
      { what: 'a write on the primary reached the standby', ok: st.seenOnStandby === true },
      { what: 'the promoted standby accepts writes', ok: st.writableAfterPromote === true },
    ],
  }));
}

export const STANDBY: Scenario = {
  number: 6,
  name: 'standby',
  title: 'Build a standby from a backup and watch it stream',
  situation:
    'The primary must have a warm copy on another machine that takes over within seconds if it dies. Copying the data ' +
    'directory again from the primary would load it for hours; the backup already exists.',
  fits: {
    method: 'pgkeep restore of the latest base backup, with standby.signal, primary_conninfo and a replication slot',
    why: 'The backup and the archive bring the standby close to the primary without touching it; the stream does the rest.',
  },
  notThese: [
    { method: 'pg_basebackup from the primary', why: 'works, but reads every file from the primary again, over its network and disks.' },
    { method: 'the standby as the backup', why: 'it replays every mistake within a second: keep the backups and the archive too.' },
  ],
  prerequisites: {
    postgresqlConf: [...ARCHIVING_CONF, 'max_wal_senders = 10', 'hot_standby = on                      # on the standby'],
    pgHba: [...REPLICATION_HBA, 'host    replication   replicator 10.0.0.6/32    scram-sha-256'],
    roles: [BACKUP_ROLE, 'CREATE ROLE replicator LOGIN REPLICATION;  -- the standby connects as it'],
    schedule: 'once; then monitor pg_stat_replication and the slot (pg_replication_slots.wal_status)',
  },
  copied: [
    { what: "the backup's files", from: 'the repository' },
    {
      what: 'WAL after the backup',
      from: 'first the archive (restore_command), then the primary over the replication protocol (walreceiver)',
    },
  ],
  commands: [
    'psql -c "SELECT pg_create_physical_replication_slot(\'standby1\')"',
    "pgkeep restore latest --to /srv/pg-standby  # then: touch standby.signal; primary_conninfo = '...'; primary_slot_name = 'standby1'",
  ],
  needsClientTools: [],
  run,
};

/**
 * Scenario 7: disaster recovery onto a new host from the repository alone. The primary archives
 * into an encrypted repository and has a base backup; the host is lost (server killed, data
 * directory gone); on a "new host" only the repository and the passphrase file are used: the
 * repository is opened, the newest backup restored, every archived WAL segment replayed, the
 * server promoted. What was written after the last archived segment is what is lost.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Repository } from '../repo/index.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { restore } from '../restore/index.js';
import { ARCHIVING_CONF, BACKUP_ROLE, REPLICATION_HBA } from './common-prereqs.js';
import { archiveCurrentSegment, DEMO_REPO_CLUSTER, moreOrders, need, one } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { archiveAndBackupStep, shopClusterStep } from './shop-steps.js';
import { SHOP_DATABASE } from './shop.js';
import { repositoryWhere, requireS3Credentials, s3Storage } from './s07-s3-repository.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

/** The demo's passphrase: a real one lives in a password manager, away from the repository. */
const PASSPHRASE = 'correct horse battery staple';
const UNARCHIVED = 5;

interface State extends DemoState {
  archivedAt?: number;
  lostAt?: number;
  customersArchived?: number;
  customersAtLoss?: number;
  recoveredOrders?: number;
  recoveredCustomers?: number;
  rtoSeconds?: number;
}

const count = (s: State, table: string) =>
  one<{ n: number }>(need(s.cluster, 'cluster'), `SELECT count(*)::int AS n FROM ${table}`).then((r) => r.n);

const STEPS: NamedStep<State>[] = [
  shopClusterStep('create-cluster', 'The old host: a cluster with the shop', 'initdb, a free port; the shop loaded.'),
  saying(
    archiveAndBackupStep(
      'An encrypted repository (on S3 when one is given, else a directory), WAL archiving and a base backup',
      'pgkeep repo init with a passphrase (every object encrypted; the passphrase kept in a file of its own), ' +
        'archive_command = pgkeep --passphrase-file FILE wal push %p, and pgkeep backup.',
      PASSPHRASE,
    ),
    (s) => repositoryWhere(s.opts.s3),
  ),
  {
    name: 'business',
    title: 'Business, archived',
    narration: () =>
      'Fifty orders; the segment holding them is archived (a busy server fills segments; archive_timeout closes them on a quiet one).',
    run: async (s) => {
      await moreOrders(s);
      const seg = await archiveCurrentSegment(need(s.cluster, 'cluster'), s.opts.signal);
      s.archivedAt = Date.now();
      s.customersArchived = await count(s, 'customers');
      return { lines: [`${s.ordersBeforeDrop} orders; archived through ${seg}`] };
    },
  },
  {
    name: 'last-writes',
    title: `${UNARCHIVED} sign-ups that never reach the archive`,
    narration: () => 'They are committed, in the current WAL segment in pg_wal on the old host: not yet archived.',
    run: async (s) => {
      await need(s.cluster, 'cluster').exec(
        `INSERT INTO customers (name, email) SELECT 'Last ' || g, 'last' || g || '@example.com' FROM generate_series(1, ${UNARCHIVED}) g`,
        SHOP_DATABASE,
      );
      s.customersAtLoss = await count(s, 'customers');
      return { lines: [`${s.customersAtLoss} customers on the old host`] };
    },
  },
  {
    name: 'host-lost',
    title: 'The old host is lost',
    narration: () =>
      'The server is killed and its data directory (with pg_wal) removed; the repository handle is dropped. What survives: ' +
      'the repository (on S3, or a directory) and the passphrase file. Nothing below reads anything else.',
    run: async (s) => {
      s.lostAt = Date.now();
      await need(s.cluster, 'cluster').destroy();
      s.cluster = undefined;
      await s.repo?.close();
      s.repo = undefined;
      return { lines: [`gone at ${new Date(s.lostAt).toISOString()}; left: ${s.repoDir} and ${s.passphraseFile}`] };
    },
  },
  {
    name: 'new-host',
    title: 'The new host: open the repository with the passphrase, restore the newest backup, replay every archived segment',
    narration: () =>
      'pgkeep restore latest --to DIR --start: the passphrase unwraps the repository key; the newest backup is written out; ' +
      'restore_command (pgkeep wal get, with the same passphrase file) feeds every archived segment; at the end of the ' +
      'archive the server promotes itself.',
    run: async (s) => {
      const t0 = performance.now();
      const secret = readFileSync(need(s.passphraseFile, 'passphrase file'), 'utf8').replace(/\r?\n$/, '');
      const repoAt = need(s.repoDir, 'repository');
      const storage = s.repoLocation ? s3Storage(s.repoLocation) : new PosixDriver(repoAt);
      s.repo = await Repository.open(storage, { getPassphrase: async () => secret, jobs: 2 });
      const r = await restore({
        repo: s.repo,
        cluster: DEMO_REPO_CLUSTER,
        to: join(need(s.workDir, 'work directory'), 'new-host'),
        access: {
          repo: repoAt,
          cluster: DEMO_REPO_CLUSTER,
          passphraseFile: s.passphraseFile,
          ...(s.repoConfigFile ? { configFile: s.repoConfigFile } : {}),
        },
        archiveMode: 'off',
        sync: false,
        start: true,
        signal: s.opts.signal,
        onStarted: (c) => {
          s.recovered = c;
        },
      });
      s.rtoSeconds = (performance.now() - t0) / 1000;
      const c = need(s.recovered, 'recovered cluster');
      s.recoveredOrders = (await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM orders')).n;
      s.recoveredCustomers = (await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM customers')).n;
      const log = readFileSync(c.logFile, 'utf8');
      const segs = new Set([...log.matchAll(/restored log file "([0-9A-F]{24})" from archive/g)].map((m) => m[1]));
      return {
        lines: [
          `backup ${r.snapshotId}: ${r.stats.files} files from the repository into ${r.dataDir}`,
          `${segs.size} WAL segments replayed from the archive; promoted, running on port ${r.started?.port}`,
          `${s.recoveredOrders} orders, ${s.recoveredCustomers} customers (${need(s.customersAtLoss, 'customers') - s.recoveredCustomers} lost: never archived)`,
        ],
      };
    },
  },
];

/** A step whose report ends with one more line, written from the state. */
function saying(step: NamedStep<State>, line: (s: State) => string): NamedStep<State> {
  return {
    ...step,
    run: async (s) => {
      const r = (await step.run(s)) as { lines: string[] };
      return { ...r, lines: [...r.lines, line(s)] };
    },
  };
}

async function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  if (opts.s3) requireS3Credentials();
  const state: State = { opts };
  const r = await runScenarioSteps<State>('disaster-recovery', STEPS, state, (st) => ({
    rpo: {
      seconds: (need(st.lostAt, 'loss') - need(st.archivedAt, 'archive')) / 1000,
      meaning: 'from the last archived segment to the loss: those writes lived only in the lost pg_wal (archive_timeout bounds it)',
    },
    rto: { seconds: st.rtoSeconds ?? 0, meaning: 'open the repository, restore the newest backup, replay the archive, promote' },
    checks: [
      { what: 'every archived order is back', ok: st.recoveredOrders === st.ordersBeforeDrop },
      { what: 'every archived customer is back, the unarchived ones are not', ok: st.recoveredCustomers === st.customersArchived },
    ],
  }));
  if (r.kept && state.repoLocation)
    r.kept.push({ what: `the repository on S3, ${state.repoDir}`, remove: `aws s3 rm --recursive ${state.repoDir}/` });
  return r;
}

export const DISASTER_RECOVERY: Scenario = {
  number: 7,
  name: 'disaster-recovery',
  title: 'Disaster recovery onto a new host from the repository alone',
  situation:
    'The database host is gone: disk, configuration, pg_wal, all of it. A new machine has PostgreSQL of the same major and ' +
    'pgkeep. What you have: the repository (another machine, or S3) and the passphrase.',
  fits: {
    method: 'base backups + continuous archiving into an encrypted repository off the host; pgkeep restore on the new host',
    why: 'The repository holds everything needed (files, WAL, the configuration kept outside the data directory); the passphrase opens it.',
  },
  notThese: [
    { method: 'backups on the same host', why: 'burn with it.' },
    { method: 'a standby in the same rack', why: 'shares the fate of the rack, and replays mistakes; keep it, but not as the only copy.' },
    { method: 'an unencrypted repository on S3', why: 'whoever reads the bucket reads the database.' },
  ],
  prerequisites: {
    postgresqlConf: [
      ...ARCHIVING_CONF.slice(0, 2),
      "archive_command = 'pgkeep --passphrase-file /etc/pgkeep/passphrase wal push %p'",
      ARCHIVING_CONF[3]!,
    ],
    pgHba: REPLICATION_HBA,
    roles: [BACKUP_ROLE, 'the passphrase: in a password manager or a vault, never only on the host'],
    schedule: 'pgkeep backup nightly; archiving all the time; a restore drill onto a spare host every month',
  },
  copied: [
    {
      what: 'every data file, and the configuration outside the data directory',
      from: 'the old server, over the replication protocol, into the repository',
    },
    { what: 'WAL segments', from: 'the old pg_wal, by archive_command, into the repository' },
    { what: 'on the new host: all of it', from: 'the repository only (S3 or a directory), decrypted with the passphrase' },
  ],
  commands: [
    'pgkeep --repo s3://backups/pg --passphrase-file /root/passphrase list',
    'pgkeep --repo s3://backups/pg --passphrase-file /root/passphrase restore latest --to /var/lib/postgresql/15/main --start',
  ],
  needsClientTools: [],
  repositoryOnS3: true,
  run,
};

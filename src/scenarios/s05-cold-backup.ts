/**
 * Scenario 5: a maintenance window and a cold backup. A cold backup of a running server is refused
 * (its control file says "in production", as a crashed one does); after a clean shutdown the
 * control file says "shut down", and every file is copied from the data directory as it is; the
 * server starts again; the backup is restored into a new directory, started, and compared.
 */
import { join } from 'node:path';
import { backup } from '../backup/index.js';
import { PgkeepError } from '../errors.js';
import { readControlFile } from '../pg/control.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import { restore } from '../restore/index.js';
import { createRepository, DEMO_REPO_CLUSTER, need, one, takeBackup } from './demo-recovery.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';
import { runScenarioSteps } from './shop-session.js';
import { mib, shopClusterStep } from './shop-steps.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions } from './types.js';

interface State extends DemoState {
  digest?: string;
  restoredDigest?: string;
  refusedWhileRunning?: boolean;
  windowStart?: number;
  windowSeconds?: number;
  restoreSeconds?: number;
}

const DIGEST =
  "SELECT count(*) || ':' || md5(string_agg(format('%s|%s|%s|%s', id, customer_id, product_id, quantity), ',' ORDER BY id)) AS d FROM orders";

async function state(c: LocalCluster): Promise<string> {
  return (await readControlFile(c.dataDir))?.clusterState ?? 'unknown';
}

const STEPS: NamedStep<State>[] = [
  shopClusterStep('create-cluster', 'The server: a throwaway cluster with the shop', 'initdb, a free port; the shop loaded.', async (s) => {
    s.digest = (await one<{ d: string }>(need(s.cluster, 'cluster'), DIGEST)).d;
  }),
  {
    name: 'refused-while-running',
    title: 'A cold backup of the running server is refused',
    narration: () =>
      'global/pg_control records the cluster state. A running server, and one that crashed (kill -9, power loss), both ' +
      'say "in production": their data files may be mid-write and only WAL replay makes them consistent. pgkeep reads ' +
      'the control file itself and refuses to copy such a directory cold.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      const repo = await createRepository(s);
      const controlState = await state(c);
      const err = await backup({ repo, clusterName: DEMO_REPO_CLUSTER, cluster: c.connectionSettings(), method: 'cold' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      s.refusedWhileRunning = err instanceof PgkeepError && err.code === 'SERVER_NOT_READY';
      return {
        controlState,
        lines: [`control file: "${controlState}"`, `pgkeep backup --method cold: ${err instanceof Error ? err.message : 'ACCEPTED'}`],
      };
    },
  },
  {
    name: 'stop',
    title: 'The window opens: pg_ctl stop -m fast',
    narration: () =>
      'A fast shutdown disconnects the sessions, writes a final checkpoint (every change is now in the data files) and ' +
      'marks the control file "shut down": the directory is consistent on its own, no WAL is needed to use it.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      s.windowStart = performance.now();
      await c.stop('fast');
      const controlState = await state(c);
      return { controlState, lines: [`control file: "${controlState}"`] };
    },
  },
  {
    name: 'cold-backup',
    title: 'pgkeep backup --method cold',
    narration: () =>
      'Every file of the data directory is read from disk by parallel readers (no server, no connection), each page ' +
      'checked against its checksum, compressed and stored in the repository.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      const b = (await takeBackup(s, 'cold')) as { id: string; files: number; bytes: number; seconds: number; pagesChecked: number };
      return {
        id: b.id,
        files: b.files,
        pagesChecked: b.pagesChecked,
        lines: [
          `backup ${b.id}: ${b.files} files, ${mib(b.bytes)} from ${c.dataDir}, ${b.pagesChecked} pages checksum-verified, in ${b.seconds.toFixed(1)} s`,
        ],
      };
    },
  },
  {
    name: 'start',
    title: 'The window closes: the server starts again',
    narration: () => 'Writes resume. From here on, without WAL archiving, nothing written is protected until the next window.',
    run: async (s) => {
      const c = need(s.cluster, 'cluster');
      await c.start();
      s.windowSeconds = (performance.now() - need(s.windowStart, 'window')) / 1000;
      return { windowSeconds: s.windowSeconds, lines: [`the window lasted ${s.windowSeconds.toFixed(1)} s (stop, backup, start)`] };
    },
  },
  {
    name: 'restore',
    title: 'Restore the cold backup into a new directory, start it, compare',
    narration: () =>
      "pgkeep restore writes the backup's files into an empty directory; the server starts on them directly: no " +
      'recovery is needed, the files were consistent when copied.',
    run: async (s) => {
      const t0 = performance.now();
      const r = await restore({
        repo: need(s.repo, 'repository'),
        cluster: DEMO_REPO_CLUSTER,
        id: need(s.backupId, 'backup'),
        to: join(need(s.workDir, 'work directory'), 'restored'),
        access: { repo: need(s.repoDir, 'repository'), cluster: DEMO_REPO_CLUSTER },
        sync: false,
        start: true,
        signal: s.opts.signal,
        onStarted: (c) => {
          s.recovered = c;
        },
      });
      s.restoreSeconds = (performance.now() - t0) / 1000;
      s.restoredDigest = (await one<{ d: string }>(need(s.recovered, 'restored cluster'), DIGEST)).d;
      const same = s.restoredDigest === s.digest;
      return {
        lines: [
          `${r.stats.files} files written into ${r.dataDir}; started in ${s.restoreSeconds.toFixed(1)} s in all`,
          `orders: ${s.restoredDigest.split(':')[0]} rows, ${same ? 'identical to the server before the window' : 'DIFFERENT'}`,
        ],
      };
    },
  },
];

function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  return runScenarioSteps<State>('cold-backup', STEPS, { opts }, (st) => {
    return {
      rpo: {
        seconds: 0,
        meaning:
          'the backup holds every transaction committed before the shutdown; writes after the window are unprotected until the next one',
      },
      rto: { seconds: st.restoreSeconds ?? 0, meaning: 'restore of every file + start (no WAL replay)' },
      checks: [
        { what: 'a cold backup of the running server is refused', ok: st.refusedWhileRunning === true },
        { what: 'the restored cluster holds every order of the server', ok: st.restoredDigest === st.digest },
      ],
    };
  });
}

export const COLD_BACKUP: Scenario = {
  number: 5,
  name: 'cold-backup',
  title: 'A maintenance window: a cold backup of a stopped cluster',
  situation:
    'A small internal server may stop for a few minutes at night, has no WAL archiving, and the backup must be simple: ' +
    'the data directory, copied while nothing writes to it.',
  fits: {
    method: 'pgkeep backup --method cold, in the window, after pg_ctl stop',
    why: 'A cleanly shut down data directory is consistent by itself: the copy needs no WAL, no replication connection, no role.',
  },
  notThese: [
    {
      method: 'cp -a / rsync of the running data directory',
      why: 'copies files mid-write: without the WAL of that span the copy may not start, or start with silent damage.',
    },
    {
      method: 'a hot backup (stream, local)',
      why: 'needs no window but needs the WAL from its start to its end; fine too, with more to set up.',
    },
    { method: 'pg_dump', why: 'no window needed either, but restoring it rebuilds every index; slower to bring back for a whole cluster.' },
  ],
  prerequisites: {
    postgresqlConf: [],
    pgHba: [],
    roles: ['the OS user that owns the data directory (postgres), or root: pgkeep reads the files directly'],
    schedule: 'in the window: pg_ctl stop -m fast && pgkeep backup --method cold && pg_ctl start (or systemctl stop/start)',
  },
  copied: [
    { what: 'every file of the data directory', from: 'the disk, read directly while the server is stopped' },
    { what: 'pg_control, checked first', from: 'global/pg_control: the state must be "shut down"' },
  ],
  commands: ['pg_ctl stop -D /srv/pg -m fast', 'pgkeep --pgdata /srv/pg backup --method cold', 'pg_ctl start -D /srv/pg'],
  needsClientTools: [],
  run,
};

/** Steps that scenarios share: a throwaway cluster with the shop database loaded. */
import { createCluster, loadShop } from './demo.js';
import { dump, type DumpResult } from '../logical/index.js';
import { DEMO_REPO_CLUSTER, need, one, setUpArchiving, takeBackup } from './demo-recovery.js';
import { SHOP_DATABASE } from './shop.js';
import type { DemoState } from './demo-state.js';
import type { NamedStep } from './run-steps.js';

/** initdb + start + the shop; `then` runs on the loaded cluster (e.g. to take a digest). */
export function shopClusterStep<S extends DemoState>(
  name: string,
  title: string,
  narration: string,
  then?: (s: S) => Promise<void>,
): NamedStep<S> {
  return {
    name,
    title,
    narration: () => narration,
    run: async (s) => {
      await createCluster(s);
      await loadShop(s);
      const c = need(s.cluster, 'cluster');
      await then?.(s);
      return { version: c.version, lines: [`PostgreSQL ${c.version} in ${c.dataDir}, port ${c.port}: shop loaded`] };
    },
  };
}

/** Bytes as KiB or MiB with one decimal, for step reports. */
export function mib(bytes: number | bigint): string {
  const n = Number(bytes);
  return n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
}

/** WAL archiving into a new repository, then a base backup over the replication protocol. */
export function archiveAndBackupStep<S extends DemoState>(title: string, narration: string, passphrase?: string): NamedStep<S> {
  return {
    name: 'archive-and-backup',
    title,
    narration: () => narration,
    run: async (s) => {
      const a = (await setUpArchiving(s, passphrase)) as { repository: string };
      const b = (await takeBackup(s)) as { id: string; files: number; bytes: number };
      const { n } = await one<{ n: number }>(need(s.cluster, 'cluster'), 'SELECT count(*)::int AS n FROM orders');
      return {
        lines: [
          `archive_command = pgkeep wal push %p, into the repository ${a.repository}`,
          `backup ${b.id}: ${b.files} files, ${mib(b.bytes)}, over the replication protocol; ${n} orders in it`,
        ],
      };
    },
  };
}

/** pgkeep dump of the shop database (custom format) into the scenario's repository. */
export function dumpShop(s: DemoState): Promise<DumpResult> {
  return dump({
    repo: need(s.repo, 'repository'),
    clusterName: DEMO_REPO_CLUSTER,
    cluster: need(s.cluster, 'cluster').connectionSettings(SHOP_DATABASE),
    database: SHOP_DATABASE,
    format: 'custom',
    signal: s.opts.signal,
  });
}

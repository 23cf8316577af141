/** Steps that scenarios share: a throwaway cluster with the shop database loaded. */
import { createCluster, loadShop } from './demo.js';
import { need } from './demo-recovery.js';
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

/** Helper for tests that start a restored copy themselves (not used by the product). */
import assert from 'node:assert/strict';
import type { LocalCluster } from '../pg/local-cluster.js';

/**
 * Wait (at most 60 s) until a restored copy that recovers has promoted — it accepts read-only
 * connections as soon as it is consistent — and assert it is on a new timeline.
 */
export async function promotedToNewTimeline(c: LocalCluster): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const [st] = await c.query<{ rec: boolean; tli: number }>(
      'select pg_is_in_recovery() as rec, timeline_id as tli from pg_control_checkpoint()',
    );
    if (!st!.rec) {
      assert.ok(st!.tli >= 2, `promoted to a new timeline, not ${st!.tli}`);
      return st!.tli;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.fail(`the restored copy did not promote in 60 s:\n${c.logTail(20)}`);
}

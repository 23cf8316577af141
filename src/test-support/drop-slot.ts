/**
 * Drop a replication slot once no walsender holds it. A receiver that stopped has closed its
 * connection, but its walsender on the server exits a moment later: until then the slot is
 * "active for PID n" and pg_drop_replication_slot fails (seen in CI under load).
 */
interface Queryable {
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

export async function dropSlotWhenFree(server: Queryable, slot: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const [s] = await server.query<{ active: boolean; pid: number | null }>(
      'select active, active_pid as pid from pg_replication_slots where slot_name = $1',
      [slot],
    );
    if (!s) throw new Error(`replication slot ${slot} does not exist`);
    if (!s.active) break;
    if (Date.now() > end) throw new Error(`replication slot ${slot} still active for PID ${s.pid} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.query('select pg_drop_replication_slot($1)', [slot]);
}

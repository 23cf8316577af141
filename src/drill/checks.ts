/**
 * Phase "checks", on the started sandbox: every database accepts a connection, pg_amcheck finds
 * no corruption in heap and btree (when the client tools are there; else said, "skipped"), the
 * largest tables' rows can be counted (the planner's estimate next to the count), and each of the
 * user's statements returns true. Every check is recorded, passed or not; the phase fails when
 * one did not pass.
 */
import { execFile } from 'node:child_process';
import type { DrillCheckRecord } from '../holdings/drill-records.js';
import { findPgTool } from '../pg/bin.js';
import type { LocalCluster } from '../pg/local-cluster.js';
import { checkName, type UserCheck } from './user-sql.js';

/** Tables counted per database (the largest by pages). */
export const TABLES_COUNTED = 3;

const msg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runDrillChecks(
  sb: LocalCluster,
  user: UserCheck[],
  pgBin: string | undefined,
  signal?: AbortSignal,
): Promise<DrillCheckRecord[]> {
  const checks: DrillCheckRecord[] = [];
  const databases = (await sb.query<{ d: string }>('select datname as d from pg_database where datallowconn order by datname')).map(
    (r) => r.d,
  );
  for (const db of databases) {
    signal?.throwIfAborted();
    try {
      await sb.query('select 1', [], db);
      checks.push({ name: `connect ${db}`, ok: true });
    } catch (e) {
      checks.push({ name: `connect ${db}`, ok: false, detail: msg(e) });
    }
  }
  checks.push(await amcheck(sb, pgBin, signal));
  for (const db of databases) {
    if (db === 'template1' || !checks.find((c) => c.name === `connect ${db}`)?.ok) continue;
    checks.push(...(await countLargest(sb, db, signal)));
  }
  for (const c of user) {
    signal?.throwIfAborted();
    checks.push(await userCheck(sb, c));
  }
  return checks;
}

async function countLargest(sb: LocalCluster, db: string, signal?: AbortSignal): Promise<DrillCheckRecord[]> {
  const out: DrillCheckRecord[] = [];
  const tables = await sb.query<{ s: string; t: string; est: string }>(
    `select n.nspname as s, c.relname as t, greatest(c.reltuples, 0)::bigint::text as est
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_toast'
      order by c.relpages desc, c.reltuples desc limit ${TABLES_COUNTED}`,
    [],
    db,
  );
  for (const t of tables) {
    signal?.throwIfAborted();
    const name = `rows ${db}.${t.s}.${t.t}`;
    try {
      const q = `select count(*)::text as n from only ${ident(t.s)}.${ident(t.t)}`;
      const [r] = await sb.query<{ n: string }>(q, [], db);
      out.push({ name, ok: true, detail: `${r!.n} rows (estimated ${t.est})` });
    } catch (e) {
      out.push({ name, ok: false, detail: msg(e) });
    }
  }
  return out;
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

async function userCheck(sb: LocalCluster, c: UserCheck): Promise<DrillCheckRecord> {
  const name = checkName(c);
  try {
    const rows = await sb.query<Record<string, unknown>>(c.sql, [], c.database);
    const values = rows.length === 1 ? Object.values(rows[0]!) : [];
    if (values.length !== 1 || typeof values[0] !== 'boolean') {
      return {
        name,
        ok: false,
        detail: `must return one row of one boolean, returned ${rows.length} row(s)${rows.length === 1 ? ` of ${values.length} column(s): ${JSON.stringify(rows[0])}` : ''}`,
      };
    }
    return values[0]
      ? { name, ok: true, detail: `true (database ${c.database})` }
      : { name, ok: false, detail: `returned false (database ${c.database})` };
  } catch (e) {
    return { name, ok: false, detail: `failed in database ${c.database}: ${msg(e)}` };
  }
}

/** pg_amcheck --all (heap and btree of every database; the amcheck extension installed into the sandbox where missing). */
async function amcheck(sb: LocalCluster, pgBin: string | undefined, signal?: AbortSignal): Promise<DrillCheckRecord> {
  const tool = await findPgTool('pg_amcheck', { pgBin }).catch(() => undefined);
  if (!tool) return { name: 'pg_amcheck', ok: true, detail: 'skipped: no pg_amcheck (install the PostgreSQL client tools, 14 or newer)' };
  const args = [
    '--host',
    sb.socketDir,
    '--port',
    String(sb.port),
    '--username',
    sb.superuser,
    '--no-password',
    '--all',
    '--install-missing',
  ];
  return new Promise((resolve) => {
    execFile(
      tool.path,
      args,
      { signal, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, PGCONNECT_TIMEOUT: '30' } },
      (err, stdout, stderr) => {
        const text = `${stdout}${stderr}`.trim().split('\n').slice(0, 10).join('\n');
        if (!err)
          resolve({ name: 'pg_amcheck', ok: true, detail: `heap and btree of every database: no corruption (pg_amcheck ${tool.version})` });
        else
          resolve({
            name: 'pg_amcheck',
            ok: false,
            detail: `pg_amcheck ${tool.version} ${signal?.aborted ? 'interrupted' : `exited ${err.code ?? err.signal}`}: ${text || err.message}`,
          });
      },
    );
  });
}

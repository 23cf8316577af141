/**
 * Roles and tablespaces through `pg_dumpall --globals-only` (kept in memory: it is small).
 * Role passwords live in pg_authid, which only superusers can read; when the server refuses,
 * the dump is taken again with --no-role-passwords and the result says so.
 */
import type { PgTool } from '../../pg/bin.js';
import { runTool, toolFailed, type ToolExit } from '../tools/run-tool.js';

export interface GlobalsDump {
  sql: Buffer;
  noRolePasswords: boolean;
}

async function run(
  tool: PgTool,
  env: NodeJS.ProcessEnv,
  database: string,
  extra: string[],
  signal?: AbortSignal,
): Promise<{ exit: ToolExit; sql: Buffer }> {
  const r = runTool(tool.path, ['--globals-only', `--database=${database}`, ...extra], { env, signal });
  const chunks: Buffer[] = [];
  r.stdout!.on('data', (b: Buffer) => chunks.push(b));
  const exit = await r.exit;
  return { exit, sql: Buffer.concat(chunks) };
}

export async function dumpGlobals(tool: PgTool, env: NodeJS.ProcessEnv, database: string, signal?: AbortSignal): Promise<GlobalsDump> {
  let r = await run(tool, env, database, [], signal);
  let noRolePasswords = false;
  if (r.exit.code !== 0 && r.exit.stderr.some((l) => /permission denied for (table|relation) pg_authid/.test(l))) {
    noRolePasswords = true;
    r = await run(tool, env, database, ['--no-role-passwords'], signal);
  }
  if (r.exit.code !== 0) {
    throw toolFailed(
      'dump of roles and tablespaces',
      'pg_dumpall',
      r.exit,
      'connect as a superuser, or as a role that can read pg_roles and pg_tablespace',
    );
  }
  return { sql: r.sql, noRolePasswords };
}

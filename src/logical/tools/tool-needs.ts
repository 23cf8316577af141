/**
 * Which major of pg_dump, pg_dumpall, pg_restore and psql a logical operation needs, and the
 * error when none is installed.
 *
 * - pg_dump and pg_dumpall refuse a server newer than themselves ("aborting because of server
 *   version mismatch"): at least the server's major. Debian's 15 client tools dump 13, 14, 15.
 * - pg_restore reads archives up to the format of its own major's pg_dump (16 and 17 added
 *   header fields): at least the major of the pg_dump that wrote the dump.
 * - psql replays plain SQL and globals; pg_dump's plain output may use meta-commands an older
 *   psql lacks: at least that pg_dump's major too.
 *
 * The tools are looked up by pg/tools.ts (an explicit pg_bin or PGKEEP_PG_BIN first, then
 * pg_config, /usr/lib/postgresql/<major>/bin, PATH), newest fitting one first.
 */
import { PgkeepError } from '../../errors.js';
import { parseToolVersion } from '../../pg/bin.js';
import { findPgTool, type PgTool } from '../../pg/bin.js';
import type { DumpMeta } from '../meta.js';

export interface ToolNeed {
  tool: 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'psql';
  minMajor: number;
  /** Why that major, as a clause: "the server is PostgreSQL 17 and pg_dump refuses a newer server than itself". */
  why: string;
}

/** pg_dump / pg_dumpall for a server of `serverMajor`. Pure. */
export function dumpNeed(tool: 'pg_dump' | 'pg_dumpall', serverMajor: number): ToolNeed {
  return { tool, minMajor: serverMajor, why: `the server is PostgreSQL ${serverMajor} and ${tool} refuses a server newer than itself` };
}

/** What restoring this dump runs: pg_restore for archives, psql for plain SQL and globals. Pure. */
export function restoreNeeds(meta: Pick<DumpMeta, 'format' | 'globals' | 'pgDumpVersion' | 'serverVersionNum'>): ToolNeed[] {
  const serverMajor = Math.floor(meta.serverVersionNum / 10000);
  const writer = parseToolVersion(`pg_dump (PostgreSQL) ${meta.pgDumpVersion}`);
  const minMajor = Math.max(serverMajor, writer?.major ?? serverMajor);
  const by = `the dump was written by pg_dump ${meta.pgDumpVersion}`;
  const needs: ToolNeed[] = [];
  if (meta.format !== 'plain')
    needs.push({ tool: 'pg_restore', minMajor, why: `${by} and an older pg_restore cannot read its archive format` });
  if (meta.format === 'plain' || meta.globals) needs.push({ tool: 'psql', minMajor, why: `${by} and an older psql may not run its SQL` });
  return needs;
}

/** The error for a need nothing installed meets: the major, why, what was found, what to install. Pure. */
export function toolMissingError(need: ToolNeed, found: PgTool[], cause?: unknown): PgkeepError {
  const seen = found.length ? `found only ${found.map((t) => `${t.path} (${t.version})`).join(', ')}` : `found no ${need.tool} at all`;
  const pkg = `postgresql-client-${need.minMajor}`;
  return new PgkeepError('TOOL_MISSING', `${need.tool} ${need.minMajor} or newer is needed: ${need.why}; ${seen}`, {
    hint:
      `install ${pkg} (Debian/Ubuntu: apt-get install ${pkg}; apt.postgresql.org has the majors a distribution lacks), which pgkeep then ` +
      `finds in /usr/lib/postgresql/${need.minMajor}/bin by itself; or set pg_bin in [cluster.NAME] (or PGKEEP_PG_BIN) to a directory ` +
      `holding ${need.tool} ${need.minMajor} or newer`,
    details: { tool: need.tool, minMajor: need.minMajor, found },
    cause,
  });
}

/** Find the tool a need names (newest that fits; `pgBin` first). */
export async function findNeededTool(need: ToolNeed, pgBin?: string): Promise<PgTool> {
  try {
    return await findPgTool(need.tool, { minMajor: need.minMajor, pgBin });
  } catch (e) {
    if (!(e instanceof PgkeepError) || e.code !== 'TOOL_MISSING') throw e;
    throw toolMissingError(need, (e.details?.found as PgTool[] | undefined) ?? [], e);
  }
}

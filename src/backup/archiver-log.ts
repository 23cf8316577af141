/**
 * The archiver's own words: the server log's last "archive command failed with exit code N", its
 * DETAIL, and what the command printed just before (its stderr goes to the same log). Read
 * through SQL (pg_current_logfile, pg_read_file), so only when the server logs to a file through
 * the logging collector and the role may read it; otherwise nothing.
 */
import type { Queryable } from '../pg/catalog.js';

const TAIL_BYTES = 64 * 1024;
/** A line the server wrote itself (anything else between its lines came from archive_command). */
const SERVER_LINE = /\b(LOG|ERROR|WARNING|FATAL|PANIC|DETAIL|HINT|STATEMENT|CONTEXT|NOTICE|INFO|DEBUG\d?):/;

export async function archiverLogLines(db: Queryable, max = 5): Promise<string[]> {
  try {
    const { rows } = await db.query('SELECT pg_current_logfile() AS f');
    const file = rows[0]?.f as string | null;
    if (!file) return [];
    const r = await db.query('SELECT pg_read_file($1::text, greatest(0, (pg_stat_file($1::text)).size - $2::bigint), $2::bigint) AS t', [
      file,
      TAIL_BYTES,
    ]);
    const lines = String(r.rows[0]?.t ?? '').split('\n');
    // the last failure: what the command printed (lines the server did not write) just before
    // the server's "archive command failed ..." line, that line, and its DETAIL (the command)
    let i = lines.length - 1;
    while (i >= 0 && !/archive command (failed|was terminated)/i.test(lines[i]!)) i--;
    if (i < 0) return [];
    const own: string[] = [];
    for (let j = i - 1; j >= 0 && own.length < max && lines[j] && !SERVER_LINE.test(lines[j]!); j--) own.unshift(lines[j]!);
    const detail = lines[i + 1] && /DETAIL:/.test(lines[i + 1]!) ? [lines[i + 1]!] : [];
    return [...own, lines[i]!, ...detail].map((l) => l.trim()).filter(Boolean);
  } catch {
    return []; // not superuser, no pg_read_server_files, or no log file: the hint says where to look
  }
}

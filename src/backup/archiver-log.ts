/**
 * The archiver's own words: the last lines of the server log that mention archive_command (its
 * "archive command failed with exit code N" and, just before, what the command printed). Read
 * through SQL (pg_current_logfile, pg_read_file), so only when the server logs to a file through
 * the logging collector and the role may read it; otherwise nothing.
 */
import type { Queryable } from '../pg/catalog.js';

const TAIL_BYTES = 64 * 1024;

export async function archiverLogLines(db: Queryable, failedWal: string | null, max = 6): Promise<string[]> {
  try {
    const { rows } = await db.query('SELECT pg_current_logfile() AS f');
    const file = rows[0]?.f as string | null;
    if (!file) return [];
    const r = await db.query(
      'SELECT pg_read_file($1::text, greatest(0, (pg_stat_file($1::text)).size - $2::bigint), $2::bigint) AS t', [file, TAIL_BYTES]);
    const lines = String(r.rows[0]?.t ?? '').split('\n');
    const picked: string[] = [];
    lines.forEach((line, i) => {
      if (!/archive command|archive_command|archiving write-ahead log file/i.test(line)) return;
      // what the command printed comes just before the server's own line
      const prev = lines[i - 1];
      if (prev && !picked.includes(prev) && failedWal !== null && !/LOG:|ERROR:|WARNING:|FATAL:/.test(prev)) picked.push(prev);
      picked.push(line);
    });
    return picked.slice(-max).map((l) => l.trim()).filter(Boolean);
  } catch {
    return []; // not superuser, no pg_read_server_files, or no log file: the hint says where to look
  }
}

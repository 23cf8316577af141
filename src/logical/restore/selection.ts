/** Selective restore (--table/--schema): a -L list from the stored TOC. */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import { parseQualifiedName } from '../identifiers.js';
import { knowsDependencies, selectTocEntries, writeTocList } from '../toc/index.js';
import type { DbStep } from './database-step.js';
import { objectLabel, refuseStranded } from './restored-errors.js';
import { createDatabase, ensureSchemas } from './target-server.js';

export interface Selection {
  /** The -L list file; none restores the whole archive. */
  listFile?: string;
  entries?: number;
  /** The dump ids of the chosen entries (absent: all). */
  ids?: number[];
  /** Entries left out because they need objects not restored. */
  skipped: string[];
}

/** The list of the chosen entries, written into `tmp`; the target database and schemas created when missing. */
export async function selectEntries(s: DbStep, tmp: string): Promise<Selection> {
  const { o, db, c } = s;
  if ((o.tables?.length ?? 0) + (o.schemas?.length ?? 0) === 0) return { skipped: [] };
  if (!db.toc || !knowsDependencies(db.toc.entries)) {
    const what = db.toc ? 'the dependencies of its table of contents' : 'a table of contents';
    throw new PgkeepError(
      'UNSUPPORTED',
      `the snapshot lacks ${what} for database ${db.name} (${db.tocNote ?? 'not recorded'}), so it cannot be restored selectively`,
      {
        hint: 'restore the whole database (without --table/--schema) into a scratch database and copy what you need from there',
      },
    );
  }
  const sel = selectTocEntries(db.toc.entries, {
    tables: (o.tables ?? []).map((t) => parseQualifiedName(t)),
    schemas: (o.schemas ?? []).map((n) => parseQualifiedName(n, 'schema name').name),
  });
  if (sel.unmatched.length) {
    throw new PgkeepError('NOT_FOUND', `not in the dump of database ${db.name}: ${sel.unmatched.join(', ')}`, {
      hint: `see what it holds with: pgkeep restore-dump ${s.snapshot.id} --list`,
    });
  }
  refuseStranded(sel.stranded, db.toc.entries, db.name);
  const listFile = join(tmp, 'restore.list');
  writeFileSync(listFile, writeTocList(db.toc.entries, sel.ids, `pgkeep restore-dump ${s.snapshot.id}`));
  // A list restores no DATABASE entry, and a table's schema only when the schema is chosen:
  // create both when missing, so one table can go into a fresh database.
  if (s.target.mode === 'create') {
    await createDatabase(c.params, s.target.db, o.signal);
    s.target.mode = 'into';
  }
  const chosen = new Set(sel.ids);
  const schemas = new Set(db.toc.entries.filter((e) => chosen.has(e.dumpId) && e.schema !== undefined).map((e) => e.schema!));
  for (const e of db.toc.entries) if (chosen.has(e.dumpId) && e.type === 'SCHEMA') schemas.delete(e.name);
  await ensureSchemas(c.params, s.target.db, [...schemas], o.signal);
  return { listFile, entries: sel.ids.length, ids: sel.ids, skipped: sel.skipped.map((e) => objectLabel(e.entry)) };
}

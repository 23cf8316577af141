/**
 * Step "finish": global/pg_control is written last (to a temporary name, then renamed into
 * place), directories get their recorded mtimes (deepest first, now that nothing more is
 * written into them) and are fsynced, and the in-progress marker is removed: only now does the
 * directory look — and is — complete.
 */
import { chmod, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { heldPgControlPath } from './begin.js';
import { fsyncDir, setAttributes, setMtime } from './file-attrs.js';
import { removeMarker } from './marker.js';
import { ensureDirectory, restoreOneFile, type WriteContext } from './write-files.js';

export async function writePgControl(c: WriteContext): Promise<void> {
  const pc = c.plan.pgControl;
  if (!pc) return;
  const held = heldPgControlPath(c.plan.dataDir);
  await ensureDirectory(dirname(pc.local), 0o700);
  const signal = c.signal ?? new AbortController().signal;
  await restoreOneFile(c, { ...pc, local: held }, signal, Buffer.allocUnsafe(c.snapshot.manifest.chunkSize));
  await rename(held, pc.local);
}

export async function finishRestore(c: WriteContext): Promise<void> {
  const { plan } = c;
  await writePgControl(c);
  for (const d of [...plan.directories].reverse()) await setMtime(d.local, d.record, false);
  if (c.sync) {
    for (const d of plan.directories) await fsyncDir(d.local);
    for (const t of plan.tablespaces) await fsyncDir(t.to);
    await fsyncDir(join(plan.dataDir, 'global')).catch(() => undefined);
  }
  await removeMarker(plan.dataDir);
  const root = plan.ownerRecord;
  if (root) {
    // PostgreSQL accepts 0700, or 0750 for a cluster initialised with group access.
    const mode = plan.root && (plan.root.mode & 0o777) === 0o750 ? 0o750 : 0o700;
    await setAttributes(plan.dataDir, { ...root, type: 'directory', mtimeMs: plan.root?.mtimeMs ?? NaN }, c.owners, { mode });
  } else {
    await chmod(plan.dataDir, 0o700);
  }
  if (c.sync) await fsyncDir(plan.dataDir);
}

/**
 * Checks shared by the `--method stream` tests (not used by the product): what a standalone
 * stream snapshot must hold, and its restore with the tablespace moved, checked by
 * pg_verifybackup.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pgToolPath } from '../pg/bin.js';
import { ensureTraversable, runProgram } from '../pg/server-user.js';
import type { Repository } from '../repo/index.js';
import { restore } from '../restore/index.js';
import { verifyBackup, type BackupResult } from './index.js';
import { resolveSnapshot } from '../holdings/index.js';

/**
 * The server's manifest was checked and kept, the label, one tablespace (its map, its link to
 * `tablespaceDir`), the WAL from start to end; verify finds nothing. Returns the tablespace's oid.
 */
export async function checkStandaloneStreamSnapshot(
  repo: Repository,
  cluster: string,
  r: BackupResult,
  o: { label: string; tablespaceDir: string },
): Promise<string> {
  assert.equal(r.method, 'stream');
  assert.ok(r.walSegments >= 1);
  assert.ok((r.manifestFilesChecked ?? 0) > 500, `files checked against backup_manifest: ${r.manifestFilesChecked}`);
  const { snapshot, meta } = await resolveSnapshot(repo, cluster, r.snapshotId);
  assert.equal(meta.serverManifest, true);
  assert.ok(meta.backupLabel?.includes(`LABEL: ${o.label}\n`), meta.backupLabel);
  assert.equal(meta.tablespaces.length, 1);
  const oid = meta.tablespaces[0]!.oid;
  assert.match(meta.tablespaceMap ?? '', new RegExp(`^${oid} `));
  const link = await snapshot.file(`pg_tblspc/${oid}`);
  assert.equal(link?.type, 'symlink');
  assert.equal(link?.linkTarget, o.tablespaceDir);
  assert.ok(await snapshot.file('backup_manifest'));
  assert.ok(await snapshot.file(`pg_wal/${meta.walStart}`));
  assert.ok(await snapshot.file(`pg_wal/${meta.walEnd}`));
  const v = await verifyBackup(repo, cluster, r.snapshotId);
  assert.deepEqual(v.problems, []);
  assert.ok((v.manifestFilesChecked ?? 0) > 500);
  return oid;
}

/**
 * Restore into <workDir>/restored with tablespace `oid` moved to <workDir>/restored-ts, then
 * pg_verifybackup -n from `toolsBinDir` (it runs as the server's OS user; -n: no WAL parsing).
 * Returns the restored data directory.
 */
export async function restoreStreamSnapshot(
  repo: Repository,
  cluster: string,
  id: string,
  o: { workDir: string; oid: string; toolsBinDir: string },
): Promise<string> {
  const dir = join(o.workDir, 'restored');
  await restore({
    repo,
    cluster,
    id,
    to: dir,
    sync: false,
    tablespaceMap: [{ from: o.oid, to: join(o.workDir, 'restored-ts') }],
    access: { repo: join(o.workDir, 'repo'), cluster },
  });
  ensureTraversable(dir);
  // the restore rewrote tablespace_map for the new location and wrote the recovery settings
  const verify = await runProgram(pgToolPath(o.toolsBinDir, 'pg_verifybackup'), [
    '-n',
    '-i',
    'tablespace_map',
    '-i',
    'recovery.signal',
    '-i',
    'postgresql.auto.conf',
    dir,
  ]);
  assert.equal(verify.code, 0, verify.stderr + verify.stdout);
  return dir;
}

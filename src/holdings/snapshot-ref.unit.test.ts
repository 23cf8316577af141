/**
 * One meaning of "latest" (src/holdings/snapshot-ref.ts), per command, on a real posix repository: a
 * dump newer than a physical backup and a physical backup newer than a dump.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir, newPosixRepo } from '../repo/test-utils.js';
import type { Repository } from '../repo/index.js';
import { PgkeepError } from '../errors.js';
import { resolveSnapshot } from './physical-snapshot.js';
import { physicalMetaRecord } from './physical-meta.fixtures.js';
import { dumpMetaRecord } from './dump-meta.fixtures.js';
import { showBackup } from '../backup/show.js';
import { verifyBackup } from '../backup/verify.js';
import { loadDumpSnapshot } from '../logical/restore/index.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let repo: Repository;

async function snapshot(cluster: string, kind: 'physical' | 'logical'): Promise<string> {
  const w = await repo.startSnapshot({ cluster, kind });
  await w.addFile(
    { path: kind === 'physical' ? 'PG_VERSION' : 'db.dump', type: 'file', mode: 0o600, mtimeMs: Date.now() },
    Buffer.from(`${kind}\n`),
  );
  const meta = kind === 'logical' ? dumpMetaRecord() : physicalMetaRecord();
  const id = (await w.commit(meta)).id;
  await new Promise((r) => setTimeout(r, 1100)); // ids carry the second: the next one sorts after
  return id;
}

/** Each command's pick for a reference, as the command resolves it. */
async function picks(cluster: string, ref: string) {
  const settle = (p: Promise<string>) => p.catch((e: PgkeepError) => `${e.code}: ${e.message} | ${e.hint ?? ''}`);
  return {
    restore: await settle(resolveSnapshot(repo, cluster, ref).then((r) => r.snapshot.id)),
    restoreDump: await settle(loadDumpSnapshot(repo, cluster, ref).then((r) => r.snapshot.id)),
    show: await settle(showBackup(repo, cluster, ref).then((d) => d.summary.id)),
    verify: await settle(verifyBackup(repo, cluster, ref).then((r) => r.id)),
  };
}

const ids: Record<string, string> = {};

before(async () => {
  dir = await tempDir('pgkeep-ref-');
  repo = await newPosixRepo(dir.path);
  ids.oldPhysical = await snapshot('dumpnewer', 'physical');
  ids.newDump = await snapshot('dumpnewer', 'logical');
  ids.oldDump = await snapshot('physnewer', 'logical');
  ids.newPhysical = await snapshot('physnewer', 'physical');
  await snapshot('onlyphys', 'physical');
  await snapshot('onlydump', 'logical');
});
after(async () => {
  await dir.remove();
});

test("latest: the newest of the command's kind; show and verify take the newest of any kind", async () => {
  assert.deepEqual(await picks('dumpnewer', 'latest'), {
    restore: ids.oldPhysical,
    restoreDump: ids.newDump,
    show: ids.newDump,
    verify: ids.newDump,
  });
  assert.deepEqual(await picks('physnewer', 'latest'), {
    restore: ids.newPhysical,
    restoreDump: ids.oldDump,
    show: ids.newPhysical,
    verify: ids.newPhysical,
  });
});

test('latest-physical and latest-logical choose the kind in show and verify (a cron job verifying the nightly backup)', async () => {
  const p = await picks('dumpnewer', 'latest-physical');
  assert.equal(p.show, ids.oldPhysical);
  assert.equal(p.verify, ids.oldPhysical);
  assert.equal(p.restore, ids.oldPhysical);
  assert.match(p.restoreDump, /^USAGE: "latest-physical" names a physical snapshot, but this command works on logical dumps/);
  const l = await picks('physnewer', 'latest-logical');
  assert.equal(l.show, ids.oldDump);
  assert.equal(l.verify, ids.oldDump);
  assert.equal(l.restoreDump, ids.oldDump);
  assert.match(l.restore, /^USAGE: "latest-logical" names a logical snapshot, but this command works on physical backups/);
});

test('no snapshot of the kind: NOT_FOUND saying what there is, with a hint that does not repeat the failing command', async () => {
  const dump = await picks('onlyphys', 'latest');
  assert.match(
    dump.restoreDump,
    /^NOT_FOUND: cluster "onlyphys" has no logical dumps in .*\| it has only physical backups \(1; "pgkeep list" shows them\), which "pgkeep restore" restores; take a dump with "pgkeep dump"$/,
  );
  assert.doesNotMatch(dump.restoreDump.split('|')[1]!, /restore-dump/);
  const phys = await picks('onlydump', 'latest');
  assert.match(
    phys.restore,
    /^NOT_FOUND: cluster "onlydump" has no physical backups in .*\| it has only logical dumps \(1; .*\), which "pgkeep restore-dump" restores; take a physical backup with "pgkeep backup"$/,
  );
  assert.match((await picks('none', 'latest')).show, /^NOT_FOUND: cluster "none" has no snapshots/);
});

test('an id prefix (as a DBA copies it from "pgkeep list") names the one snapshot it starts; an ambiguous one is refused with the candidates', async () => {
  const byPrefix = await picks('dumpnewer', ids.newDump!.slice(0, -2));
  assert.equal(byPrefix.show, ids.newDump);
  assert.equal(byPrefix.verify, ids.newDump);
  assert.equal(byPrefix.restoreDump, ids.newDump);
  assert.match(byPrefix.restore, /^USAGE: snapshot \S+ of cluster "dumpnewer" is a logical dump, not a physical backup/);
  assert.equal((await picks('dumpnewer', ids.oldPhysical!)).restore, ids.oldPhysical, 'a whole id is itself');
  const both = await picks('dumpnewer', ids.oldPhysical!.slice(0, 4)); // the year: both snapshots
  for (const r of Object.values(both)) {
    assert.match(
      r,
      new RegExp(
        `^USAGE: "${ids.oldPhysical!.slice(0, 4)}" is the start of 2 snapshot ids of cluster "dumpnewer": ${ids.oldPhysical}, ${ids.newDump} \\| give more of the id`,
      ),
    );
  }
  assert.match((await picks('dumpnewer', '1999')).show, /^NOT_FOUND: snapshot 1999 of cluster "dumpnewer" does not exist/);
});

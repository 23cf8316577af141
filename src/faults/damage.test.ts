/**
 * Damaged objects in the repository of real backups of a real cluster, through the CLI: a
 * flipped byte in a pack, a truncated pack, a damaged snapshot manifest. Each time `verify`
 * exits 7 for the affected snapshot, `repo check --read-data` exits 7 naming the object and the
 * snapshots it affects, `restore` of an affected snapshot fails with 7 and reports no success,
 * and the unaffected snapshots still restore to their data. (The engine-level cases, encrypted
 * repositories included, are in src/repo/faults.unit.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faultTest } from '../test-support/faults.js';
import { PosixDriver } from '../repo/storage/posix/index.js';
import { Repository } from '../repo/repository.js';
import { packKey } from '../repo/pack-format.js';
import type { PhysicalBackupMeta } from '../holdings/physical-meta.js';
import { backupFirstSegment } from '../holdings/index.js';
import { walObjectName } from '../holdings/wal-layout.js';
import { type FaultEnv, useFaultEnv } from './fault-env.js';

let env: FaultEnv;
/** Snapshot ids, oldest first: A (from useFaultEnv), B, C. */
let ids: string[] = [];
/** What each snapshot holds (recorded at backup time). */
const expected = new Map<string, Record<string, string>>();
useFaultEnv('damage', (e) => (env = e));

interface Blob {
  pack: string;
  packOffset: number;
}

/** Every chunk blob each snapshot uses. */
async function blobsBySnapshot(): Promise<Map<string, Blob[]>> {
  const repo = await Repository.open(new PosixDriver(env.repoDir));
  try {
    const out = new Map<string, Blob[]>();
    for (const id of ids) {
      const snap = await repo.readSnapshot('main', id);
      const blobs: Blob[] = [];
      for await (const f of snap.files()) for (const c of f.chunks) blobs.push({ pack: c.pack, packOffset: c.packOffset });
      out.set(id, blobs);
    }
    return out;
  } finally {
    await repo.close();
  }
}

const packPath = (pack: string) => join(env.repoDir, ...packKey(pack).split('/'));

async function ensureSnapshots(): Promise<void> {
  if (ids.length === 3) return;
  for (let round = 1; round <= 2; round++) {
    await env.changeData(round);
    await env.backup('stream');
  }
  const list = await env.list();
  ids = list.map((s) => s.id);
  assert.equal(ids.length, 3);
  for (const s of list) expected.set(s.id, env.expectedFor(s.startTime));
}

/** `verify`, `repo check --read-data` and `restore` of every snapshot, judged against the set damaged. */
async function assertDamageReported(damaged: string[], object: RegExp, what: string): Promise<void> {
  for (const id of ids) {
    const v = await env.cli(['verify', id]);
    assert.equal(v.code, damaged.includes(id) ? 7 : 0, `verify ${id} with ${what}: ${v.stdout}${v.stderr}`);
  }
  const check = await env.cli(['repo', 'check', '--read-data']);
  assert.equal(check.code, 7, `repo check --read-data with ${what}: ${check.stdout}${check.stderr}`);
  const report = JSON.parse(check.stdout) as { ok: boolean; damaged: { object: string; snapshots: string[] }[] };
  assert.equal(report.ok, false);
  const named = report.damaged.filter((d) => object.test(d.object));
  assert.ok(named.length > 0, `check names ${object}: ${JSON.stringify(report.damaged)}`);
  const affected = [...new Set(named.flatMap((d) => d.snapshots))].sort();
  assert.deepEqual(affected, damaged.map((id) => `main/${id}`).sort(), `check names the snapshots ${what} affects`);
  for (const id of ids) {
    if (!damaged.includes(id)) {
      // verify read every blob of it above; the oldest one is also restored, started and compared.
      if (id === ids[0]) await env.assertRestores(id, expected.get(id)!, what);
      continue;
    }
    const dir = env.newTarget();
    const r = await env.cli(['restore', id, '--to', dir, '--archive-mode', 'off', '--no-sync']);
    assert.equal(r.code, 7, `restore of ${id} with ${what} fails with 7: ${r.stdout}${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).error?.code, 'DATA_INTEGRITY', 'no success is reported');
    assert.equal(existsSync(join(dir, 'global', 'pg_control')), false, 'the failed restore cannot be started');
  }
}

/** Snapshots using a blob of `pack` (at `offset`, or anywhere at or after `from`). */
function users(blobs: Map<string, Blob[]>, pack: string, match: (b: Blob) => boolean): string[] {
  return ids.filter((id) => blobs.get(id)!.some((b) => b.pack === pack && match(b)));
}

faultTest('a flipped byte in a pack of a real backup: verify and check name it, restore fails with 7, other backups restore', async () => {
  await ensureSnapshots();
  const blobs = await blobsBySnapshot();
  const inA = new Set(blobs.get(ids[0]!)!.map((b) => b.pack));
  const target = blobs.get(ids[1]!)!.find((b) => !inA.has(b.pack))!;
  assert.ok(target, 'B wrote packs of its own');
  const path = packPath(target.pack);
  const original = readFileSync(path);
  const bad = Buffer.from(original);
  bad[target.packOffset + 10]! ^= 0x20;
  writeFileSync(path, bad);
  try {
    await assertDamageReported(
      users(blobs, target.pack, (b) => b.packOffset === target.packOffset),
      new RegExp(target.pack),
      'a flipped byte in a pack',
    );
  } finally {
    writeFileSync(path, original);
  }
  await env.assertCheckPasses('the pack was put back');
});

faultTest('a truncated pack of a real backup: verify and check name it, restore fails with 7, other backups restore', async () => {
  await ensureSnapshots();
  const blobs = await blobsBySnapshot();
  const inA = new Set(blobs.get(ids[0]!)!.map((b) => b.pack));
  const target = blobs.get(ids[1]!)!.find((b) => !inA.has(b.pack))!;
  const path = packPath(target.pack);
  const original = readFileSync(path);
  const keep = Math.floor(original.length / 2);
  truncateSync(path, keep);
  try {
    // Everything in the pack is reported (its index is gone with the tail); the snapshots using it are named.
    await assertDamageReported(
      users(blobs, target.pack, () => true),
      new RegExp(target.pack),
      'a truncated pack',
    );
  } finally {
    writeFileSync(path, original);
  }
  await env.assertCheckPasses('the pack was put back');
});

/** Flip a byte in the manifest of `id`; returns the function that puts it back. */
function damageManifest(id: string): () => void {
  const dir = join(env.repoDir, 'snapshots', 'main');
  const path = join(dir, readdirSync(dir).find((f) => f.startsWith(id))!);
  const original = readFileSync(path);
  const bad = Buffer.from(original);
  bad[bad.length - 40]! ^= 0x01;
  writeFileSync(path, bad);
  return () => writeFileSync(path, original);
}

faultTest('a damaged snapshot manifest: verify, check and restore of it fail with 7, the other backups restore', async () => {
  await ensureSnapshots();
  const victim = ids[1]!;
  const repair = damageManifest(victim);
  try {
    await assertDamageReported([victim], new RegExp(`snapshots/main/${victim}`), 'a damaged manifest');
  } finally {
    repair();
  }
  await env.assertCheckPasses('the manifest was put back');
});

faultTest('a damaged older manifest does not stop list, restore latest or the next backup', async () => {
  await ensureSnapshots();
  const victim = ids[1]!;
  const repair = damageManifest(victim);
  try {
    const list = await env.cli(['list']);
    assert.equal(list.code, 7, `list says something is damaged: ${list.stdout}${list.stderr}`);
    const shown = JSON.parse(list.stdout) as { snapshots: { id: string }[]; damaged: { id: string; message: string }[] };
    assert.deepEqual(
      shown.snapshots.map((s) => s.id),
      [ids[0], ids[2]],
      'list shows every readable snapshot',
    );
    assert.deepEqual(
      shown.damaged.map((d) => d.id),
      [victim],
      'list names the damaged one',
    );
    assert.match(shown.damaged[0]!.message, /SHA-256|damaged/);

    const b = await env.cli(['backup', '--method', 'stream', '--standalone']);
    assert.equal(b.code, 0, `a new backup can be taken (it is what the hint says to do): ${b.stdout}${b.stderr}`);
    const made = JSON.parse(b.stdout) as { snapshotId: string; incrementalFrom?: string; warnings: string[] };
    assert.equal(made.incrementalFrom, ids[2], 'incremental to the newest readable backup');
    assert.ok(
      made.warnings.some((w) => w.includes(victim)),
      `the backup warns about ${victim}: ${JSON.stringify(made.warnings)}`,
    );

    const dir = env.newTarget();
    const r = await env.cli(['restore', 'latest', '--to', dir, '--archive-mode', 'off', '--no-sync']);
    assert.equal(r.code, 0, `restore latest (${made.snapshotId}) works: ${r.stdout}${r.stderr}`);
    assert.equal(JSON.parse(r.stdout).snapshotId, made.snapshotId);
    await env.assertDataDir(dir, expected.get(ids[2]!)!, 'the backup taken with a damaged older manifest');
  } finally {
    repair();
  }
});

faultTest('a damaged older manifest does not stop the restore of a newer backup that recovers from the archive', async () => {
  await ensureSnapshots();
  // Not standalone: its restore goes through the archive planner, which reads every manifest.
  const b = await env.cli(['backup', '--method', 'stream']);
  assert.equal(b.code, 0, `backup: ${b.stdout}${b.stderr}`);
  const newest = JSON.parse(b.stdout).snapshotId as string;
  const repair = damageManifest(ids[1]!);
  try {
    const dir = env.newTarget();
    const r = await env.cli(['restore', newest, '--to', dir, '--archive-mode', 'off', '--no-sync']);
    const err = r.code === 0 ? undefined : JSON.parse(r.stdout).error;
    assert.notEqual(
      err?.code,
      'DATA_INTEGRITY',
      `restore of ${newest} is refused because another snapshot's manifest is damaged: ${err?.message}`,
    );
  } finally {
    repair();
  }
});

/** WAL objects named like the archived segment each given backup starts in (the content is never read by expire). */
async function archiveFirstSegments(of: string[]): Promise<Map<string, string>> {
  const repo = await Repository.open(new PosixDriver(env.repoDir));
  try {
    const names = new Map<string, string>();
    for (const id of of) {
      const m = (await repo.readManifest('main', id)).meta as unknown as PhysicalBackupMeta;
      const name = walObjectName('main', m.systemIdentifier, backupFirstSegment(m));
      await repo.putObject(name, Buffer.from(`stand-in for the first segment of ${id}`), { ifAbsent: true });
      names.set(id, name);
    }
    return names;
  } finally {
    await repo.close();
  }
}

async function walObjectsLeft(names: Iterable<string>): Promise<string[]> {
  const repo = await Repository.open(new PosixDriver(env.repoDir));
  try {
    const left: string[] = [];
    for (const n of names) if (await repo.statObject(n)) left.push(n);
    return left;
  } finally {
    await repo.close();
  }
}

// Last in the file: it expires the oldest backup.
faultTest(
  'a damaged older manifest: wal check and expire go on with the readable ones, name it, exit 7, and expire keeps the WAL it may need',
  async () => {
    await ensureSnapshots();
    const [oldest, victim] = [ids[0]!, ids[1]!];
    const wal = await archiveFirstSegments([oldest, victim]);
    const repair = damageManifest(victim);
    try {
      const c = await env.cli(['wal', 'check']);
      assert.equal(c.code, 7, `wal check says something is damaged: ${c.stdout}${c.stderr}`);
      const check = JSON.parse(c.stdout) as { ok: boolean; backups: { id: string }[]; damagedManifests: { id: string }[] };
      assert.equal(check.ok, false);
      assert.deepEqual(
        check.damagedManifests.map((d) => d.id),
        [victim],
        'wal check names the damaged manifest',
      );
      assert.ok(
        check.backups.some((b) => b.id === oldest),
        `wal check still checks the readable backups: ${c.stdout}`,
      );

      const e = await env.cli(['expire', '--keep-last', '1', '--keep-days', '0']);
      assert.equal(e.code, 7, `expire says a manifest is damaged: ${e.stdout}${e.stderr}`);
      const report = JSON.parse(e.stdout) as { expired: string[]; walFiles: number; damagedManifests: { id: string }[] };
      assert.deepEqual(
        report.damagedManifests.map((d) => d.id),
        [victim],
        'expire names the damaged manifest',
      );
      assert.ok(report.expired.includes(oldest), `expire applied the policy to the readable backups: ${e.stdout}`);
      assert.ok(!report.expired.includes(victim));
      assert.equal(report.walFiles, 0, 'no WAL removed while a backup that may need it cannot be read');
      assert.deepEqual(await walObjectsLeft(wal.values()), [...wal.values()], 'the WAL the damaged backup may need is still archived');
      const repo = await Repository.open(new PosixDriver(env.repoDir));
      const left = await repo.listSnapshotIds('main').finally(() => repo.close());
      assert.ok(!left.includes(oldest) && left.includes(victim), `the expired backup is gone, the damaged one is not: ${left}`);
    } finally {
      repair();
    }
    const again = await env.cli(['expire', '--keep-last', '1', '--keep-days', '0', '--dry-run']);
    assert.equal(again.code, 0, `with the manifest repaired expire works again: ${again.stdout}${again.stderr}`);
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPolicy, walIsExpired } from './policy.js';
import { resolvePolicy } from './policy-flags.js';

const now = new Date('2024-06-30T12:00:00Z');
const day = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
// Oldest first: ended 10, 8, 6, 4, 2 days ago.
const backups = [10, 8, 6, 4, 2].map((d, i) => ({ id: `b${i + 1}`, stopTime: day(d), pinned: false }));
const kept = (ds: ReturnType<typeof applyPolicy>) => ds.filter((d) => d.keep).map((d) => d.id);

test('keep_last keeps the N newest', () => {
  assert.deepEqual(kept(applyPolicy(backups, { keepLast: 2 }, now)), ['b4', 'b5']);
});

test('no policy keeps everything; the newest and pinned backups are always kept', () => {
  assert.deepEqual(kept(applyPolicy(backups, {}, now)), ['b1', 'b2', 'b3', 'b4', 'b5']);
  const pinned = backups.map((b) => (b.id === 'b1' ? { ...b, pinned: true } : b));
  const d = applyPolicy(pinned, { keepLast: 1 }, now);
  assert.deepEqual(kept(d), ['b1', 'b5']);
  assert.deepEqual(d.find((x) => x.id === 'b1')!.reasons, ['pinned']);
  assert.deepEqual(d.find((x) => x.id === 'b5')!.reasons, ['newest', 'keep_last']);
});

test('keep_days is a recovery window: backups inside it plus the newest one before it', () => {
  // Window of 5 days: b4 (4 days) and b5 inside; b3 (6 days) is needed to recover to 5 days ago.
  const d = applyPolicy(backups, { keepDays: 5 }, now);
  assert.deepEqual(kept(d), ['b3', 'b4', 'b5']);
  assert.deepEqual(d.find((x) => x.id === 'b3')!.reasons, ['keep_days start']);
  // Both rules: either keeps.
  assert.deepEqual(kept(applyPolicy(backups, { keepDays: 1, keepLast: 3 }, now)), ['b3', 'b4', 'b5']);
  assert.deepEqual(kept(applyPolicy(backups, { keepDays: 9, keepLast: 1 }, now)), ['b1', 'b2', 'b3', 'b4', 'b5']);
});

test('a policy value below 1 is a configuration error', () => {
  assert.throws(() => applyPolicy(backups, { keepLast: 0 }, now), /keep_last must be a whole number/);
});

test("expire's policy: a flag replaces the configured rule, 0 turns a rule off (flag, env or file), either rule keeps", () => {
  const file = { keepLast: 2, keepDays: 5 };
  assert.deepEqual(resolvePolicy({}, file), file);
  assert.deepEqual(resolvePolicy({ keepDays: '0' }, file), { keepLast: 2 }, "--keep-days 0 turns the file's keep_days off");
  assert.deepEqual(resolvePolicy({ keepLast: '0' }, file), { keepDays: 5 });
  assert.deepEqual(resolvePolicy({ keepLast: '0', keepDays: '0' }, file), {}, 'no rule left: nothing is expired');
  assert.deepEqual(resolvePolicy({ keepLast: '3' }, file), { keepLast: 3, keepDays: 5 });
  assert.deepEqual(resolvePolicy({}, { keepLast: 0, keepDays: 7 }), { keepDays: 7 }, 'PGKEEP_KEEP_LAST=0 or keep_last = 0: off');
  for (const bad of ['-1', '1.5', 'seven', ''])
    assert.throws(() => resolvePolicy({ keepDays: bad }, file), /--keep-days must be a whole number \(0 turns the rule off\)/);
  // Either rule keeps: keep_last 2 keeps b4, b5; keep_days 5 keeps b4, b5 and b3 (the newest before the window).
  assert.deepEqual(kept(applyPolicy(backups, resolvePolicy({}, file), now)), ['b3', 'b4', 'b5']);
  assert.deepEqual(kept(applyPolicy(backups, resolvePolicy({ keepDays: '0' }, file), now)), ['b4', 'b5']);
  assert.deepEqual(kept(applyPolicy(backups, resolvePolicy({ keepLast: '0', keepDays: '0' }, file), now)), ['b1', 'b2', 'b3', 'b4', 'b5']);
});

test('WAL positioned before the earliest needed segment expires, whatever the timeline; history files never', () => {
  const need = '000000020000000100000010';
  assert.equal(walIsExpired('00000001000000010000000F', need), true);
  assert.equal(walIsExpired('000000010000000100000010', need), false);
  assert.equal(walIsExpired('000000030000000000000FFF'.slice(0, 24), need), true);
  assert.equal(walIsExpired('00000001000000010000000E.00000028.backup', need), true);
  assert.equal(walIsExpired('000000010000000100000011.partial', need), false);
  assert.equal(walIsExpired('00000002.history', need), false);
});

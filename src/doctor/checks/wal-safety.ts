/**
 * Checks that keep WAL safe besides archive_command: replication slots (a `pgkeep wal stream
 * --slot` set-up is a valid alternative to archiving, but an inactive slot keeps WAL until pg_wal
 * fills and the server stops) and archive_timeout (the RPO of a quiet server).
 */
import type { DoctorCheck, DoctorFacts, SlotFacts } from '../types.js';
import { humanBytes as human } from '../../words.js';
import { confChange } from './advice.js';
import { asked, check, setting } from './make.js';

/** A size setting (max_wal_size, max_slot_wal_keep_size: in MB) in bytes; -1 stays -1. */
function mbSetting(facts: DoctorFacts, name: string): number | undefined {
  const v = setting(facts, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  return n < 0 ? -1 : n * 1024 * 1024;
}

/** Physical slots: what a `pgkeep wal stream --slot` set-up uses instead of archive_command. */
export function streamSlots(facts: DoctorFacts): SlotFacts[] {
  return (facts.slots ?? []).filter((s) => s.type === 'physical' && s.walStatus !== 'lost');
}

/** archive_mode is off but WAL goes to the repository by streaming through a slot. */
export function protectedByStreaming(facts: DoctorFacts): boolean {
  const mode = setting(facts, 'archive_mode');
  // (archive_mode on with an empty archive_command is not "streaming instead": the server then
  // keeps every segment in pg_wal waiting for a command.)
  return mode === 'off' && streamSlots(facts).some((s) => s.active);
}

export function slotsHealthCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['archive', 'stream']);
  const slots = facts.slots;
  if (!usedBy.length || !slots || !slots.length) return null;
  const limit = mbSetting(facts, 'max_slot_wal_keep_size') ?? -1;
  const maxWal = mbSetting(facts, 'max_wal_size') ?? 1024 * 1024 * 1024;
  const limitText = limit < 0 ? 'max_slot_wal_keep_size = -1 (no limit)' : `max_slot_wal_keep_size = ${human(limit)}`;
  const describe = (s: SlotFacts) =>
    `${s.name} (${s.type}, ${s.active ? 'active' : 'inactive'}` +
    `${s.heldBytes !== null ? `, holds ${human(s.heldBytes)} of WAL` : ''}${s.walStatus ? `, wal_status ${s.walStatus}` : ''}` +
    `${s.safeWalSize !== null ? `, ${human(Math.max(0, s.safeWalSize))} before it is lost` : ''})`;
  const lost = slots.filter((s) => s.walStatus === 'lost');
  const idle = slots.filter((s) => !s.active && s.walStatus !== 'lost');
  const heavy = idle.filter((s) => (s.heldBytes ?? 0) > maxWal || s.walStatus === 'unreserved');
  const dropOrRun = (s: SlotFacts) =>
    s.type === 'physical'
      ? `start its consumer again (pgkeep wal stream --slot ${s.name}), or if nothing uses it any more: SELECT pg_drop_replication_slot('${s.name}');`
      : `start its subscriber again, or if nothing uses it any more: SELECT pg_drop_replication_slot('${s.name}');`;
  const section = usedBy.includes('archive') ? 'archive' : 'stream';
  const bound = confChange(facts, ["max_slot_wal_keep_size = 10GB   # less than the free space of pg_wal's disk"], 'reload');
  if (lost.length) {
    return check(
      section,
      'replication_slots',
      usedBy,
      'FAIL',
      `replication slot ${lost.map(describe).join(', ')} lost WAL it had not delivered (${limitText}): ` +
        'the stream has a gap, so point-in-time recovery cannot cross it',
      `take a new backup now (pgkeep backup), then re-create the slot: SELECT pg_drop_replication_slot('${lost[0]!.name}'); ` +
        `and pgkeep wal stream --slot ${lost[0]!.name} --create-slot`,
      'none',
    );
  }
  if (heavy.length) {
    return check(
      section,
      'replication_slots',
      usedBy,
      'FAIL',
      `inactive replication slot ${heavy.map(describe).join(', ')} keeps WAL that nothing consumes; with ${limitText} ` +
        'pg_wal grows until its disk is full and the server stops',
      `${heavy.map(dropOrRun).join('\n')}${limit < 0 ? `\nand bound what a slot may keep: ${bound}` : ''}`,
      limit < 0 ? 'reload' : 'none',
    );
  }
  if (idle.length && limit < 0) {
    return check(
      section,
      'replication_slots',
      usedBy,
      'WARN',
      `inactive replication slot ${idle.map(describe).join(', ')}: with ${limitText} it keeps WAL without bound while its consumer is down`,
      `${idle.map(dropOrRun).join('\n')}\nand bound what a slot may keep: ${bound}`,
      'reload',
    );
  }
  return check(section, 'replication_slots', usedBy, 'PASS', `${slots.map(describe).join(', ')}; ${limitText}`);
}

export function archiveTimeoutCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['archive']);
  const value = setting(facts, 'archive_timeout');
  const mode = setting(facts, 'archive_mode');
  if (!usedBy.length || value === undefined || !(mode === 'on' || mode === 'always') || protectedByStreaming(facts)) return null;
  const seconds = Number(value);
  const fix = confChange(facts, ["archive_timeout = 60   # seconds: the most a quiet server's changes wait to be archived"], 'reload');
  if (seconds === 0) {
    return check(
      'archive',
      'archive_timeout',
      usedBy,
      'WARN',
      'archive_timeout is 0: a segment is archived only once it is full, so on a quiet server the last changes can ' +
        'stay unarchived for hours (that is the data a restore would lose)',
      fix,
      'reload',
    );
  }
  if (seconds > 3600) {
    return check(
      'archive',
      'archive_timeout',
      usedBy,
      'WARN',
      `archive_timeout is ${seconds}s: a quiet server's changes can wait that long to be archived`,
      fix,
      'reload',
    );
  }
  return check(
    'archive',
    'archive_timeout',
    usedBy,
    'PASS',
    `archive_timeout is ${seconds}s: even on a quiet server, at most ${seconds}s of changes are not yet archived`,
  );
}

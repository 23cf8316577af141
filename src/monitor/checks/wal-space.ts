/** Room left for pg_wal (a full pg_wal stops the server) and the WAL replication slots hold. */
import type { MonitorSettings } from '../../config/monitor.js';
import type { ClusterFacts, HealthCheck } from '../types.js';
import { human, result, serverUnknown } from './make.js';

export function walSpaceCheck(f: ClusterFacts, m: MonitorSettings): HealthCheck {
  const w = f.walSpace;
  if (!w)
    return result(
      'wal_space',
      'UNKNOWN',
      f.pgdataProblem ?? 'pg_wal could not be read',
      "run the monitor on the server's host as root or as its OS user, with pgdata set in [cluster.NAME]",
    );
  const pct = w.totalBytes > 0 ? (100 * w.freeBytes) / w.totalBytes : 0;
  const text = `${human(w.freeBytes)} free of ${human(w.totalBytes)} (${pct.toFixed(1)}%) on the file system of ${w.path}`;
  const fix =
    'find what holds WAL first (the archive check, inactive replication slots, wal_keep_size), then add space; ' +
    'never delete files from pg_wal by hand: unarchived WAL would be lost';
  if (pct < m.walFreeCritical)
    return result('wal_space', 'CRITICAL', `${text}, below ${m.walFreeCritical}%: the server stops when it is full`, fix);
  if (pct < m.walFreeWarn) return result('wal_space', 'WARN', `${text}, below ${m.walFreeWarn}%`, fix);
  return result('wal_space', 'OK', text);
}

export function slotsCheck(f: ClusterFacts, m: MonitorSettings): HealthCheck {
  const s = f.server;
  if (!s) return serverUnknown('replication_slots', f.serverError ?? 'unknown error');
  if (s.slots.length === 0) return result('replication_slots', 'OK', 'no replication slots');
  const drop = (name: string) =>
    `start its consumer again (pgkeep wal stream --slot ${name}, or the standby/subscriber), ` +
    `or if nothing uses it any more: SELECT pg_drop_replication_slot('${name}');`;
  const lost = s.slots.filter((x) => x.walStatus === 'lost');
  if (lost.length) {
    return result(
      'replication_slots',
      'CRITICAL',
      `replication slot ${lost.map((x) => x.name).join(', ')} lost WAL it had not delivered (wal_status lost): what it fed has a gap`,
      `take a new backup now (pgkeep backup), then re-create the slot: SELECT pg_drop_replication_slot('${lost[0]!.name}');`,
    );
  }
  const unreserved = s.slots.filter((x) => x.walStatus === 'unreserved');
  if (unreserved.length) {
    return result(
      'replication_slots',
      'CRITICAL',
      `replication slot ${unreserved.map((x) => x.name).join(', ')} is past max_slot_wal_keep_size (wal_status unreserved): ` +
        'its WAL is removed at the next checkpoint',
      drop(unreserved[0]!.name),
    );
  }
  const idle = s.slots
    .filter((x) => !x.active && (x.heldBytes ?? 0) >= m.slotLagWarn)
    .sort((a, b) => (b.heldBytes ?? 0) - (a.heldBytes ?? 0));
  const describe = idle.map((x) => `${x.name} (inactive, holds ${human(x.heldBytes ?? 0)})`).join(', ');
  if (idle.length && (idle[0]!.heldBytes ?? 0) >= m.slotLagCritical) {
    return result(
      'replication_slots',
      'CRITICAL',
      `${describe}: over ${human(m.slotLagCritical)}; pg_wal grows until its disk is full`,
      drop(idle[0]!.name),
    );
  }
  if (idle.length) return result('replication_slots', 'WARN', `${describe}: over ${human(m.slotLagWarn)}`, drop(idle[0]!.name));
  const most = Math.max(...s.slots.map((x) => x.heldBytes ?? 0));
  return result('replication_slots', 'OK', `${s.slots.length} slot(s); the most WAL one holds is ${human(most)}`);
}

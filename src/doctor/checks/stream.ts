/**
 * Checks for `--method stream` (the replication protocol): free walsenders and replication
 * slots, a pg_hba.conf rule admitting a replication connection, and the REPLICATION attribute.
 */
import { describeRule, evaluateHba, suggestHbaLine } from '../hba.js';
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { clusterCommand, confChange, hbaFileName } from './advice.js';
import { asked, check, setting, sqlIdent } from './make.js';

export function walSendersCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['stream']);
  const value = setting(facts, 'max_wal_senders');
  if (!usedBy.length || value === undefined || !facts.usage) return null;
  const max = Number(value);
  const used = facts.usage.walSendersInUse;
  const free = max - used;
  const state = `max_wal_senders is ${max}, ${used} in use, ${Math.max(free, 0)} free; a backup needs 1, --standalone 2`;
  const fix = confChange(facts, [`max_wal_senders = ${Math.max(10, used + 4)}`], 'restart');
  if (free >= 2) return check('stream', 'max_wal_senders', usedBy, 'PASS', state);
  if (free === 1) return check('stream', 'max_wal_senders', usedBy, 'WARN', `${state}: no room for --standalone`, fix, 'restart');
  return check('stream', 'max_wal_senders', usedBy, 'FAIL', `${state}: no replication connection can start`, fix, 'restart');
}

export function slotsCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['stream']);
  const value = setting(facts, 'max_replication_slots');
  if (!usedBy.length || value === undefined || !facts.usage) return null;
  const max = Number(value);
  const used = facts.usage.slotsInUse;
  const free = max - used;
  const state =
    `max_replication_slots is ${max}, ${used} in use, ${Math.max(free, 0)} free; ` +
    '`pgkeep wal stream` keeps one so the server holds WAL until it is stored';
  const fix = confChange(facts, [`max_replication_slots = ${Math.max(10, used + 4)}`], 'restart');
  if (free >= 2) return check('stream', 'max_replication_slots', usedBy, 'PASS', state);
  if (free === 1) return check('stream', 'max_replication_slots', usedBy, 'WARN', `${state}: little room to spare`, fix, 'restart');
  return check('stream', 'max_replication_slots', usedBy, 'FAIL', `${state}: no slot can be created`, fix, 'restart');
}

export function hbaCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['stream']);
  if (!usedBy.length || !facts.server) return null;
  const user = facts.server.sessionUser;
  const address = facts.socket ? null : facts.server.clientAddress;
  const line = suggestHbaLine(user, address);
  const from = address === null ? 'over the unix socket' : `from ${address}`;
  const reload = `then reload: SELECT pg_reload_conf(); (or ${clusterCommand(facts, 'reload')})`;
  const addFix = `add to ${hbaFileName(facts)}, before any rule that would match first:\n${line}\n${reload}`;

  if (facts.hbaRules) {
    const verdict = evaluateHba(facts.hbaRules, {
      socket: facts.socket,
      address,
      ssl: facts.server.ssl,
      user,
      memberOf: facts.role?.memberOf ?? [user],
    });
    switch (verdict.kind) {
      case 'admitted':
        return check(
          'stream',
          'hba_replication',
          usedBy,
          'PASS',
          `pg_hba.conf admits a replication connection for ${user} ${from} (${describeRule(verdict.rule)})`,
        );
      case 'rejected':
        return check(
          'stream',
          'hba_replication',
          usedBy,
          'FAIL',
          `pg_hba.conf rejects replication connections for ${user} ${from} (${describeRule(verdict.rule)})`,
          `${addFix}\n(put it above line ${verdict.rule.lineNumber}, or change that line)`,
          'reload',
        );
      case 'uncertain':
        return check(
          'stream',
          'hba_replication',
          usedBy,
          'WARN',
          `the first pg_hba.conf rule that may match a replication connection for ${user} ${from} uses a host name, ` +
            `samehost/samenet or a regular expression, which could not be checked here (${describeRule(verdict.rule)})`,
          `if replication connections fail, ${addFix}`,
          'reload',
        );
      case 'none':
        return check(
          'stream',
          'hba_replication',
          usedBy,
          'FAIL',
          `no pg_hba.conf rule admits a replication connection for ${user} ${from} ` +
            '(rules for database "all" do not cover replication connections)',
          addFix,
          'reload',
        );
    }
  }
  const probe = facts.replicationProbe;
  if (probe && probe.ok) {
    return check(
      'stream',
      'hba_replication',
      usedBy,
      'PASS',
      `a replication connection for ${user} ${from} was admitted (pg_hba_file_rules is not readable for this user, so it was tried)`,
    );
  }
  if (probe && !probe.ok) {
    const m = probe.message;
    if (/no pg_hba\.conf entry for replication connection|pg_hba\.conf rejects replication connection/i.test(m)) {
      return check(
        'stream',
        'hba_replication',
        usedBy,
        'FAIL',
        `pg_hba.conf does not admit a replication connection for ${user} ${from} (the server said: ${m})`,
        addFix,
        'reload',
      );
    }
    if (/must be superuser or replication role|permission denied to start WAL sender/i.test(m)) {
      return check(
        'stream',
        'hba_replication',
        usedBy,
        'PASS',
        `pg_hba.conf admits a replication connection for ${user} ${from}; the role itself lacks REPLICATION (see role_replication)`,
      );
    }
    if (/password authentication failed/i.test(m)) {
      return check(
        'stream',
        'hba_replication',
        usedBy,
        'WARN',
        `a pg_hba.conf rule matched, but password authentication failed for the replication connection: ${m}`,
        'replication connections look up ~/.pgpass with database "replication": add a line ' +
          'host:port:replication:user:password (or use * for the database)',
        'none',
      );
    }
  }
  return check(
    'stream',
    'hba_replication',
    usedBy,
    'WARN',
    `could not be checked: pg_hba_file_rules is readable only by superusers${probe && !probe.ok ? `, and a trial replication connection failed (${probe.message})` : ''}`,
    `make sure ${hbaFileName(facts)} has a line like\n${line}\n${reload}`,
    'reload',
  );
}

export function replicationRoleCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['stream']);
  const role = facts.role;
  if (!usedBy.length || !role) return null;
  if (role.superuser) return check('stream', 'role_replication', usedBy, 'PASS', `${role.name} is a superuser, which may replicate`);
  if (role.replication) return check('stream', 'role_replication', usedBy, 'PASS', `${role.name} has the REPLICATION attribute`);
  return check(
    'stream',
    'role_replication',
    usedBy,
    'FAIL',
    `${role.name} is neither superuser nor REPLICATION: the server refuses its replication connections`,
    `as a superuser: ALTER ROLE ${sqlIdent(role.name)} REPLICATION;`,
    'none',
  );
}

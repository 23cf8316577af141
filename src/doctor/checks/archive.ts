/**
 * Checks for `--method archive` (continuous archiving for point-in-time recovery):
 * archive_mode, an archive_command that hands segments to pgkeep, and a healthy archiver.
 */
import type { DoctorCheck, DoctorFacts } from '../types.js';
import { clusterCommand, confChange } from './advice.js';
import { asked, check, setting } from './make.js';
import { protectedByStreaming, streamSlots } from './wal-safety.js';

/** The archive_command pgkeep expects, naming the config and cluster when they are not the defaults. */
export function expectedArchiveCommand(facts: Pick<DoctorFacts, 'configFile' | 'clusterName'>): string {
  const args = [
    ...(facts.configFile ? [`--config ${facts.configFile}`] : []),
    ...(facts.clusterName !== 'main' ? [`--cluster ${facts.clusterName}`] : []),
  ];
  return ['pgkeep', ...args, 'wal push %p'].join(' ');
}

/** Does this archive_command hand segments to `pgkeep wal push`? */
export function isPgkeepArchiveCommand(cmd: string): boolean {
  return /(^|[\s/])pgkeep(\.js)?\s(.*\s)?wal\s+push\s+(.*\s)?"?%p"?(\s|$)/.test(cmd);
}

export function archiveModeCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['archive']);
  const mode = setting(facts, 'archive_mode');
  if (!usedBy.length || mode === undefined) return null;
  if (mode === 'on' || mode === 'always') {
    return check(
      'archive',
      'archive_mode',
      usedBy,
      'PASS',
      `archive_mode is ${mode}: completed WAL segments are handed to archive_command`,
    );
  }
  if (protectedByStreaming(facts)) {
    const names = streamSlots(facts)
      .filter((s) => s.active)
      .map((s) => s.name)
      .join(', ');
    return check(
      'archive',
      'archive_mode',
      usedBy,
      'PASS',
      `archive_mode is ${mode}, but WAL is streamed through the active physical replication slot ${names} ` +
        `(\`pgkeep wal stream --slot ${names.split(', ')[0]}\`): a valid set-up for point-in-time recovery as long as ` +
        "that is what consumes it (a standby's slot puts nothing in the repository)",
    );
  }
  return check(
    'archive',
    'archive_mode',
    usedBy,
    'FAIL',
    `archive_mode is ${mode}: no WAL is archived (and no replication slot is streaming it), so point-in-time recovery is impossible`,
    `${confChange(facts, ['archive_mode = on'], 'restart')}\n(or stream WAL instead: pgkeep wal stream --slot pgkeep --create-slot, kept running as a service)`,
    'restart',
  );
}

export function archiveCommandCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['archive']);
  const cmd = setting(facts, 'archive_command');
  if (!usedBy.length || cmd === undefined) return null;
  const expected = expectedArchiveCommand(facts);
  const modeOff = setting(facts, 'archive_mode') === 'off';
  const line = `archive_command = '${expected.replace(/'/g, "''")}'`;
  if (modeOff && protectedByStreaming(facts)) return null;
  const fix =
    `${confChange(facts, [line], 'reload')}${modeOff ? ` (a restart is needed anyway for archive_mode: ${clusterCommand(facts, 'restart')})` : ''}\n` +
    '(the server runs it as its own OS user: pgkeep must be on its PATH and the repository writable by it)';
  const library = setting(facts, 'archive_library');
  if (library) {
    return check(
      'archive',
      'archive_command',
      usedBy,
      'WARN',
      `archive_library is "${library}", which replaces archive_command: segments go to that module, not to pgkeep`,
      confChange(facts, ["archive_library = ''", line], 'reload'),
      'reload',
    );
  }
  if (!cmd) {
    return check(
      'archive',
      'archive_command',
      usedBy,
      'FAIL',
      'archive_command is empty: segments would pile up in pg_wal (with archive_mode on) instead of being archived',
      fix,
      'reload',
    );
  }
  if (isPgkeepArchiveCommand(cmd)) {
    return check('archive', 'archive_command', usedBy, 'PASS', `archive_command hands each segment to pgkeep: ${cmd}`);
  }
  if (/\bpgkeep\b/.test(cmd)) {
    return check(
      'archive',
      'archive_command',
      usedBy,
      'FAIL',
      `archive_command runs pgkeep but not as "wal push %p": ${cmd}`,
      fix,
      'reload',
    );
  }
  return check(
    'archive',
    'archive_command',
    usedBy,
    'WARN',
    `archive_command runs another tool (${cmd}): segments go there, and pgkeep's repository will miss them`,
    fix,
    'reload',
  );
}

export function archiverCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['archive']);
  const a = facts.archiver;
  const mode = setting(facts, 'archive_mode');
  if (!usedBy.length || !a || !(mode === 'on' || mode === 'always')) return null;
  const failingNow =
    a.failedCount > 0 && a.lastFailedTime !== null && (a.lastArchivedTime === null || a.lastFailedTime > a.lastArchivedTime);
  if (failingNow) {
    return check(
      'archive',
      'archiver',
      usedBy,
      'FAIL',
      `archiving is failing: ${a.failedCount} failures since the statistics were reset, the last for ${a.lastFailedWal} ` +
        `at ${a.lastFailedTime!.toISOString()}${a.lastArchivedTime ? ` (the last success: ${a.lastArchivedWal} at ${a.lastArchivedTime.toISOString()})` : ', and none succeeded'}; ` +
        'nothing newer is in the archive, and WAL piles up in pg_wal until its disk is full',
      `read the server log for the archive_command error${facts.layout?.debian ? ` (/var/log/postgresql/postgresql-${facts.layout.debian.version}-${facts.layout.debian.name}.log)` : ''}, ` +
        `fix it (the archive_access check above says what the server's OS user cannot reach), then confirm with: pgkeep doctor --method archive --check-archive`,
      'none',
    );
  }
  const last = a.lastArchivedWal ? `, the last ${a.lastArchivedWal} at ${a.lastArchivedTime?.toISOString()}` : '';
  return check('archive', 'archiver', usedBy, 'PASS', `${a.archivedCount} segments archived${last}, no recent failures`);
}

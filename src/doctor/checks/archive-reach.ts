/**
 * Can archive_command really work, checked from the server's side: what its OS user can reach
 * (archive_access), and, with --check-archive, a segment switched out and found durable in the
 * repository (archive_roundtrip).
 */
import type { DoctorCheck, DoctorFacts, PathAccess } from '../types.js';
import { asked, check, setting } from './make.js';

function fixFor(a: PathAccess, user: string, repo: string | undefined): string {
  if (a.error === 'ENOENT') return `${a.what} ${a.path} does not exist: create it, or correct the setting that names it`;
  if (a.error?.startsWith('EACCES (')) {
    return `let ${user} through the directory: chmod o+x ${a.path}   (or chgrp ${user} ${a.path} && chmod g+x ${a.path})`;
  }
  switch (a.what) {
    case 'passphrase file':
      return `chown ${user}: ${a.path} && chmod 0600 ${a.path}   (${user} runs archive_command)`;
    case 'config file':
      return `chgrp ${user} ${a.path} && chmod 0640 ${a.path}`;
    default:
      // A posix repository has one owner: the server's OS user, which writes WAL into it.
      return `chown -R ${user}: ${repo ?? a.path}   (then run pgkeep against this repository as ${user}: sudo -u ${user} pgkeep ...)`;
  }
}

export function archiveAccessCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['archive']);
  const acc = facts.archiveAccess;
  if (!usedBy.length || !acc) return null;
  if (acc.skipped) {
    return check(
      'archive',
      'archive_access',
      usedBy,
      'WARN',
      `not checked whether ${acc.osUser} (who runs archive_command) can use the repository: ${acc.skipped}`,
      `run doctor as root or as ${acc.osUser} (sudo -u ${acc.osUser} pgkeep doctor --method archive)`,
      'none',
    );
  }
  if (acc.configError) {
    return check(
      'archive',
      'archive_access',
      usedBy,
      'FAIL',
      `archive_command's pgkeep configuration cannot be loaded: ${acc.configError}`,
      'correct the --config/--cluster flags in archive_command (or the file they name), then reload',
      'reload',
    );
  }
  if (!acc.repo) {
    return check(
      'archive',
      'archive_access',
      usedBy,
      'FAIL',
      `archive_command, run by ${acc.osUser}, finds no repository${acc.configFile ? ` in ${acc.configFile}` : ' (no config file, no PGKEEP_REPO)'}`,
      `name one for it: archive_command = 'pgkeep --config /etc/pgkeep/pgkeep.toml wal push %p' with [repo] path in that file ` +
        `(readable by ${acc.osUser})`,
      'reload',
    );
  }
  const bad = acc.checks.filter((c) => !c.ok);
  if (!bad.length) {
    return check(
      'archive',
      'archive_access',
      usedBy,
      'PASS',
      `${acc.osUser} (who runs archive_command) can write the repository ${acc.repo}` +
        `${acc.checks.some((c) => c.what === 'passphrase file') ? ' and read the passphrase file' : ''}` +
        `${acc.configFile ? ` and the config ${acc.configFile}` : ''} (checked as ${acc.osUser})`,
    );
  }
  const shown = bad.filter((b, i) => bad.findIndex((x) => x.path === b.path) === i).slice(0, 4);
  const lines = shown.map((b) => `${b.what} ${b.path}: ${b.error}${b.owner ? ` (owner ${b.owner}, mode ${b.mode})` : ''}`);
  const fixes = [...new Set(shown.map((b) => fixFor(b, acc.osUser, acc.repo)))];
  return check(
    'archive',
    'archive_access',
    usedBy,
    'FAIL',
    `archive_command runs as ${acc.osUser}, which cannot ${bad.some((b) => b.need === 'rw') ? 'write' : 'read'} what wal push needs ` +
      `(checked as ${acc.osUser}):\n${lines.join('\n')}${bad.length > shown.length ? `\n(and ${bad.length - shown.length} more)` : ''}`,
    fixes.join('\n'),
    'none',
  );
}

export function archiveRoundtripCheck(facts: DoctorFacts): DoctorCheck | null {
  const usedBy = asked(facts, ['archive']);
  const p = facts.archiveProbe;
  if (!usedBy.length || !p) return null;
  if (p.ok) {
    return check(
      'archive',
      'archive_roundtrip',
      usedBy,
      'PASS',
      `switched to a new WAL segment: ${p.segment} was stored in the repository after ${(p.waitedMs / 1000).toFixed(1)}s (${p.object})`,
    );
  }
  const failed = p.lastFailedWal ? `; pg_stat_archiver: last failed ${p.lastFailedWal} at ${p.lastFailedTime?.toISOString()}` : '';
  const log = p.logLines?.length
    ? `\nthe server log (${p.logFile}) says:\n${p.logLines.map((l) => `  ${l}`).join('\n')}`
    : p.logFile
      ? `\n(no archive error in the server log ${p.logFile})`
      : '\n(the server log was not readable)';
  return check(
    'archive',
    'archive_roundtrip',
    usedBy,
    'FAIL',
    `${p.segment ? `${p.segment} did not reach the repository` : 'the end-to-end archive check could not run'}` +
      `${p.segment ? ` within ${p.timeoutMs / 1000}s` : ''}: ${p.error ?? 'not found'}${failed}${log}`,
    setting(facts, 'archive_mode') === 'off'
      ? 'archive_mode is off (see above)'
      : 'fix what the archiver reports above, then run the check again: pgkeep doctor --method archive --check-archive',
    'none',
  );
}

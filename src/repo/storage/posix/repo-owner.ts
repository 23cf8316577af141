/**
 * Who owns a repository directory, and who may use it.
 *
 * The rule: a posix repository has one owner, the owner of its pgkeep.json (before `repo init`
 * has written it: of the repository directory). Every file and directory in it belongs to that
 * user and its group, with modes 0600/0700, so
 * - a process running as the owner reads and writes everything (archive_command runs as the
 *   server's OS user, typically postgres: it should be the owner);
 * - root reads everything, and gives every file and directory it creates to the owner (and
 *   the owner's group), so a backup run as root never leaves files the owner cannot read;
 * - any other user could read nothing: it is refused when it opens the repository, with the
 *   owner's name and what to do, instead of failing later on the first object.
 * `repo init --owner USER` (as root) chooses the owner of a new repository.
 */
import { statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../../../errors.js';
import { groupName, userName } from '../../../os-names.js';
import type { Owner } from './atomic-file.js';

const CONFIG_FILE = 'pgkeep.json';

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The repository's owner: of pgkeep.json, else of the directory; undefined when neither exists. */
export function repositoryOwner(root: string): (Owner & { from: string }) | undefined {
  for (const path of [join(root, CONFIG_FILE), root]) {
    const st = statOrUndefined(path);
    if (st) return { uid: st.uid, gid: st.gid, from: path };
  }
  return undefined;
}

/** "postgres (uid 105)". */
export function describeUid(uid: number): string {
  const name = userName(uid);
  return name ? `${name} (uid ${uid})` : `uid ${uid}`;
}

/** "postgres:postgres" for chown, falling back to numbers. */
function chownSpec(o: Owner): string {
  return `${userName(o.uid) ?? o.uid}:${groupName(o.gid) ?? o.gid}`;
}

/**
 * Check, when the driver is created, that this user may use the repository, and validate
 * `explicit` (repo init --owner, root only: the directory and everything in it become that
 * user's). Returns the explicit owner root must give new files (and the directory) to, if any.
 */
export function checkUser(root: string, explicit?: Owner): Owner | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined; // not a POSIX system
  if (explicit) {
    if (uid !== 0 && explicit.uid !== uid) {
      throw new PgkeepError('USAGE', `only root can create a repository for another user (${describeUid(explicit.uid)})`, {
        hint: `run "repo init --owner" as root, or run "repo init" as ${describeUid(explicit.uid)}`,
      });
    }
    return uid === 0 ? explicit : undefined; // the directory itself is given away at the first write
  }
  const owner = repositoryOwner(root);
  if (uid !== 0 && owner && owner.uid !== uid && owner.from.endsWith(CONFIG_FILE)) {
    throw new PgkeepError(
      'REPOSITORY',
      `repository ${root} belongs to OS user ${describeUid(owner.uid)}; pgkeep runs as ${describeUid(uid)}, ` +
        'who cannot read or write its files (every file of a repository is readable by its owner only)',
      {
        hint:
          `run pgkeep as ${userName(owner.uid) ?? `uid ${owner.uid}`} (e.g. sudo -u ${userName(owner.uid) ?? '#' + owner.uid} pgkeep ...) ` +
          `or as root (root writes as the owner); or, if this user should own it from now on: chown -R ${userName(uid) ?? uid}: ${root}`,
        details: { ownerUid: owner.uid, uid },
      },
    );
  }
  return undefined;
}

/**
 * Who a file root creates now must belong to: the repository's owner unless that is root
 * (undefined: write as ourselves). Asked at every write, so a repository handed over with
 * `chown -R` while a process has it open is followed at once.
 */
export function ownerForWrites(root: string): Owner | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const owner = repositoryOwner(root);
  return owner && owner.uid !== 0 ? { uid: owner.uid, gid: owner.gid } : undefined;
}

/** A hint for EACCES/EPERM inside a repository: whose files these should be and how to fix it. */
export function permissionHint(root: string): string {
  const owner = repositoryOwner(root);
  if (!owner) return `check that this OS user may read and write ${root}`;
  return (
    `every file of the repository should belong to its owner, ${describeUid(owner.uid)} (the owner of pgkeep.json); ` +
    `files written by another user (as root by an older pgkeep) are unreadable to it: as root, run chown -R ${chownSpec(owner)} ${root}`
  );
}

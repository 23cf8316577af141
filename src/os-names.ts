/**
 * OS users and groups from /etc/passwd and /etc/group (Node has no getpwuid/getpwnam): the one
 * reader of those files. uid/gid -> name (cached) for the owners of backed-up files, and the
 * passwd entries pg/server-user.ts looks the PostgreSQL OS user up in. A malformed line (fields
 * missing, a uid or gid that is not a number) is passed over, as getpwent does.
 */
import { readFileSync } from 'node:fs';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  /** The home directory; "/" when the field is empty. */
  home: string;
}

const NUMBER = /^\d+$/;

/** The lines of an account file split at ':'; none when it cannot be read. */
function accountLines(file: string): string[][] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').map((line) => line.split(':'));
}

/** The well-formed entries of a passwd file (name:password:uid:gid:gecos:home:shell), in file order. */
export function passwdEntries(file = '/etc/passwd'): PasswdEntry[] {
  return accountLines(file).flatMap(([name, , uid, gid, , home, shell]) =>
    name && uid !== undefined && gid !== undefined && NUMBER.test(uid) && NUMBER.test(gid) && shell !== undefined
      ? [{ name, uid: Number(uid), gid: Number(gid), home: home || '/' }]
      : [],
  );
}

/** id -> name of a group file (name:password:gid:members); the first line of an id wins. */
function groupIds(file: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const [name, , gid] of accountLines(file)) {
    if (name && gid !== undefined && NUMBER.test(gid) && !out.has(Number(gid))) out.set(Number(gid), name);
  }
  return out;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

export function userName(uid: number): string | undefined {
  if (!users) {
    users = new Map();
    for (const u of passwdEntries()) if (!users.has(u.uid)) users.set(u.uid, u.name);
  }
  return users.get(uid);
}

export function groupName(gid: number): string | undefined {
  return (groups ??= groupIds('/etc/group')).get(gid);
}

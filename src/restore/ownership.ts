/**
 * Who owns the restored files. Only root can give files away: when this process is root, each
 * file gets its recorded owner — by name when this host knows the name (uids differ between
 * hosts: "postgres" may be 105 here and 26 there), else by the recorded number. Otherwise the
 * files belong to whoever runs the restore, as they must.
 */
import { readFileSync } from 'node:fs';
import { lchown } from 'node:fs/promises';
import type { FileEntry } from '../repo/index.js';

export interface Owner {
  uid: number;
  gid: number;
}

/** name -> id from a passwd- or group-format file (field 0 name, field 2 id). Pure parser. */
export function parseIdFile(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!) && !out.has(f[0])) out.set(f[0], Number(f[2]));
  }
  return out;
}

function readIds(path: string): Map<string, number> {
  try {
    return parseIdFile(readFileSync(path, 'utf8'));
  } catch {
    return new Map();
  }
}

export class OwnerResolver {
  private users: Map<string, number> | undefined;
  private groups: Map<string, number> | undefined;

  /** `enabled` defaults to "this process is root". */
  constructor(
    readonly enabled = process.getuid?.() === 0,
    private readonly files = { passwd: '/etc/passwd', group: '/etc/group' },
  ) {}

  /** The owner to give an entry, or undefined when ownership is not changed. */
  ownerOf(entry: Pick<FileEntry, 'uid' | 'gid' | 'owner' | 'group'>): Owner | undefined {
    if (!this.enabled) return undefined;
    this.users ??= readIds(this.files.passwd);
    this.groups ??= readIds(this.files.group);
    const uid = (entry.owner !== undefined ? this.users.get(entry.owner) : undefined) ?? entry.uid;
    const gid = (entry.group !== undefined ? this.groups.get(entry.group) : undefined) ?? entry.gid;
    if (uid === undefined && gid === undefined) return undefined;
    return { uid: uid ?? -1, gid: gid ?? -1 };
  }
}

/** lchown when an owner is given (-1 keeps that id). */
export async function applyOwner(path: string, owner: Owner | undefined): Promise<void> {
  if (owner) await lchown(path, owner.uid, owner.gid);
}

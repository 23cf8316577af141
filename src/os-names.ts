/** uid/gid -> user/group names from /etc/passwd and /etc/group (Node has no getpwuid), cached. */
import { readFileSync } from 'node:fs';

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

function load(file: string): Map<number, string> {
  const out = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return out;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && /^\d+$/.test(f[2]!) && !out.has(Number(f[2]))) out.set(Number(f[2]), f[0]!);
  }
  return out;
}

export function userName(uid: number): string | undefined {
  return (users ??= load('/etc/passwd')).get(uid);
}

export function groupName(gid: number): string | undefined {
  return (groups ??= load('/etc/group')).get(gid);
}

/**
 * Which pg_hba.conf rule would the server use for a replication connection? Pure: takes the
 * rules (pg_hba_file_rules) and what is known about the client, and follows the server's
 * first-match order. Replication connections only match rules whose database column names
 * `replication` ("all" does not cover them).
 */
import type { HbaRule } from '../pg/catalog.js';

export interface HbaClient {
  /** Connecting over a unix socket (rule type "local"). */
  socket: boolean;
  /** Client IP address as the server sees it (inet_client_addr); null over a socket. */
  address: string | null;
  ssl: boolean;
  user: string;
  /** Roles the user belongs to, directly or indirectly (for "+role" entries), itself included. */
  memberOf: string[];
}

export type HbaVerdict =
  /** The first matching rule admits the connection with this method. */
  | { kind: 'admitted'; rule: HbaRule }
  /** The first matching rule is `reject`. */
  | { kind: 'rejected'; rule: HbaRule }
  /** No rule matches: the server refuses with "no pg_hba.conf entry for replication connection". */
  | { kind: 'none' }
  /** A rule that may match (hostname, samehost, samenet, regular expression) comes first: cannot tell. */
  | { kind: 'uncertain'; rule: HbaRule };

/** Parse an IPv4 or IPv6 address into bytes (IPv4-mapped IPv6 becomes IPv4). */
export function parseIp(text: string): Uint8Array | null {
  const s = text.trim().replace(/%.*$/, '');
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? Uint8Array.from(b) : null;
  }
  if (!s.includes(':')) return null;
  let head = s;
  let tail4: number[] = [];
  const embedded = /^(.*:)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(s);
  if (embedded) {
    const b = parseIp(embedded[2]!);
    if (!b) return null;
    tail4 = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    head = embedded[1]!.endsWith('::') ? embedded[1]! : embedded[1]!.slice(0, -1);
  }
  const parts = head.split('::');
  if (parts.length > 2) return null;
  const groups = (p: string) => (p === '' ? [] : p.split(':'));
  const left = groups(parts[0]!);
  const right = parts.length === 2 ? groups(parts[1]!) : [];
  const fill = 8 - tail4.length - left.length - right.length;
  if (parts.length === 1 ? fill !== 0 : fill < 1) return null;
  const words = [...left, ...Array(parts.length === 2 ? fill : 0).fill('0'), ...right];
  if (!words.every((w) => /^[0-9a-fA-F]{1,4}$/.test(w))) return null;
  const all = [...words.map((w) => parseInt(w, 16)), ...tail4];
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  });
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.slice(12) : bytes;
}

/** Is `address` inside `network`/`mask` (both as pg_hba_file_rules shows them)? */
export function addressInNetwork(address: string, network: string, mask: string | null): boolean {
  const a = parseIp(address);
  const n = parseIp(network);
  if (!a || !n || a.length !== n.length) return false;
  const m = mask ? parseIp(mask) : null;
  if (mask && (!m || m.length !== a.length)) return false;
  for (let i = 0; i < a.length; i++) {
    const bits = m ? m[i]! : 0xff;
    if ((a[i]! & bits) !== (n[i]! & bits)) return false;
  }
  return true;
}

type Match = 'yes' | 'no' | 'maybe';

function matchType(rule: HbaRule, c: HbaClient): Match {
  switch (rule.type) {
    case 'local':
      return c.socket ? 'yes' : 'no';
    case 'host':
      return c.socket ? 'no' : 'yes';
    case 'hostssl':
      return !c.socket && c.ssl ? 'yes' : 'no';
    case 'hostnossl':
      return !c.socket && !c.ssl ? 'yes' : 'no';
    case 'hostgssenc':
      return 'no';
    case 'hostnogssenc':
      return c.socket ? 'no' : 'yes';
    default:
      return 'no';
  }
}

function matchDatabase(rule: HbaRule): Match {
  return rule.database.includes('replication') ? 'yes' : 'no';
}

function matchUser(rule: HbaRule, c: HbaClient): Match {
  let result: Match = 'no';
  for (const u of rule.user) {
    if (u === 'all' || u === c.user) return 'yes';
    if (u.startsWith('+') && c.memberOf.includes(u.slice(1))) return 'yes';
    if (u.startsWith('/')) {
      try {
        if (new RegExp(u.slice(1)).test(c.user)) return 'yes';
      } catch {
        result = 'maybe';
      }
    }
  }
  return result;
}

function matchAddress(rule: HbaRule, c: HbaClient): Match {
  if (rule.type === 'local') return 'yes';
  const addr = rule.address;
  if (!addr || addr === 'all') return 'yes';
  if (addr === 'samehost' || addr === 'samenet') return 'maybe';
  if (!c.address) return 'maybe';
  if (parseIp(addr)) return addressInNetwork(c.address, addr, rule.netmask) ? 'yes' : 'no';
  return 'maybe'; // a host name: the server resolves it
}

/** Follow the server's first-match rule for a replication connection by `client`. */
export function evaluateHba(rules: HbaRule[], client: HbaClient): HbaVerdict {
  for (const rule of rules) {
    if (rule.error) continue;
    const parts = [matchType(rule, client), matchDatabase(rule), matchUser(rule, client), matchAddress(rule, client)];
    if (parts.includes('no')) continue;
    if (parts.includes('maybe')) return { kind: 'uncertain', rule };
    return rule.authMethod === 'reject' ? { kind: 'rejected', rule } : { kind: 'admitted', rule };
  }
  return { kind: 'none' };
}

/** Quote a pg_hba.conf token when it needs it. */
function hbaToken(s: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(s) && !['all', 'replication', 'sameuser', 'samerole', 'samehost', 'samenet'].includes(s)
    ? s
    : `"${s.replace(/"/g, '""')}"`;
}

/**
 * The pg_hba.conf line to add for `user` connecting from `address` (null = unix socket).
 * E.g. `host replication backup 10.0.0.5/32 scram-sha-256`, `local replication backup peer`.
 */
export function suggestHbaLine(user: string, address: string | null): string {
  if (address === null) return `local   replication   ${hbaToken(user)}   peer`;
  const bytes = parseIp(address);
  const cidr = bytes ? `${bytes.length === 4 ? ipv4(bytes) : address}/${bytes.length * 8}` : `${address}/32`;
  return `host    replication   ${hbaToken(user)}   ${cidr}   scram-sha-256`;
}

function ipv4(b: Uint8Array): string {
  return Array.from(b).join('.');
}

/** "line 96: local replication all trust" — how a rule is shown in messages. */
export function describeRule(rule: HbaRule): string {
  const addr = rule.type === 'local' ? '' : ` ${rule.address ?? ''}${rule.netmask ? ` ${rule.netmask}` : ''}`;
  return `line ${rule.lineNumber}: ${rule.type} ${rule.database.join(',')} ${rule.user.join(',')}${addr} ${rule.authMethod}`;
}

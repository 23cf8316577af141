/**
 * The bootstrap superuser's name (the role of OID 10, the one initdb created), read from a data
 * directory that is not running: a restored copy must be entered as a role that exists in it,
 * and this one always does ("postgres" on most systems, but initdb -U or the OS user name can
 * make it anything).
 *
 * pg_authid is a shared, mapped catalog stored in global/1260. Each heap page: a 24-byte header
 * (pd_lower at offset 12), then 4-byte line pointers (offset 15 bits, flags 2 bits, length 15
 * bits); a tuple: a header of t_hoff bytes (t_infomask at 20, t_hoff at 22), then the columns in
 * order — oid (4 bytes), rolname (name, 64 bytes). A live version has no xmax (HEAP_XMAX_INVALID
 * set or xmax 0); a renamed role leaves its old version behind, the newest live one wins.
 * Little-endian hosts only (what pgkeep runs on). Undefined when the file cannot be read.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const PAGE = 8192;
const LP_NORMAL = 1;
const HEAP_XMAX_INVALID = 0x0800;
const NAMEDATALEN = 64;

export function readBootstrapSuperuser(dataDir: string, blockSize = PAGE): string | undefined {
  let file: Buffer;
  try {
    file = readFileSync(join(dataDir, 'global', '1260'));
  } catch {
    return undefined;
  }
  let found: string | undefined;
  for (let page = 0; page + blockSize <= file.length; page += blockSize) {
    const lower = file.readUInt16LE(page + 12);
    for (let lp = page + 24; lp + 4 <= page + Math.min(lower, blockSize); lp += 4) {
      const word = file.readUInt32LE(lp);
      const off = word & 0x7fff;
      const flags = (word >>> 15) & 0x3;
      const len = word >>> 17;
      if (flags !== LP_NORMAL || off === 0 || off + len > blockSize) continue;
      const t = page + off;
      const xmax = file.readUInt32LE(t + 4);
      const infomask = file.readUInt16LE(t + 20);
      const hoff = file.readUInt8(t + 22);
      if (hoff + 4 + NAMEDATALEN > len) continue;
      if (file.readUInt32LE(t + hoff) !== 10) continue;
      if (xmax !== 0 && !(infomask & HEAP_XMAX_INVALID)) continue;
      const name = file.subarray(t + hoff + 4, t + hoff + 4 + NAMEDATALEN);
      const end = name.indexOf(0);
      found = name.subarray(0, end < 0 ? NAMEDATALEN : end).toString('utf8');
    }
  }
  return found || undefined;
}

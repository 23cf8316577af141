/**
 * A streaming tar parser (ustar, pax extended headers, GNU long names) without I/O.
 *
 *   const tar = createTarParser();
 *   for (const ev of tar.push(chunk)) ...   // as often as bytes arrive, split anywhere
 *   tar.end();                              // throws if the archive stopped mid-entry
 *
 * Events come in order: `entry` (a header), zero or more `data` (the entry's content, in
 * pieces), `entry-end`; finally `end` at the end-of-archive zero block. `data` events are views
 * into the pushed chunk: copy them to keep them. Nothing is buffered except headers, so memory
 * stays bounded whatever the file sizes. A stream that ends on an entry boundary without the
 * zero blocks is accepted (PostgreSQL's BASE_BACKUP does not send them).
 */
import { PgkeepError } from '../../errors.js';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo' | 'other';

export interface TarEntry {
  /** Path as stored (pax/GNU long names applied, ustar prefix joined), trailing '/' removed. */
  path: string;
  type: TarEntryType;
  /** The raw type flag character ('0', '5', '2', ...). */
  typeflag: string;
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Content bytes that follow the header (0 for directories and links). */
  size: number;
  /** Modification time, seconds since the Unix epoch (pax may give fractions). */
  mtime: number;
  /** Target of a symlink or hard link. */
  linkTarget?: string;
}

export type TarEvent =
  | { type: 'entry'; entry: TarEntry }
  | { type: 'data'; entry: TarEntry; data: Buffer }
  | { type: 'entry-end'; entry: TarEntry }
  | { type: 'end' };

export interface TarParser {
  /** Feed the next bytes; returns the events they complete. */
  push(chunk: Buffer): TarEvent[];
  /** The input is over: throws DATA_INTEGRITY when it stopped inside a header or entry. */
  end(): TarEvent[];
  /** Bytes consumed so far. */
  readonly offset: number;
}

const BLOCK = 512;
/** Largest pax header / GNU long name we accept. */
const MAX_META = 1024 * 1024;

type State = 'header' | 'data' | 'meta' | 'padding' | 'eof';

interface PaxValues {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: number;
}

export function createTarParser(): TarParser {
  let state: State = 'header';
  let offset = 0;
  const header = Buffer.alloc(BLOCK);
  let headerFill = 0;
  let remaining = 0; // data or meta bytes left in the current entry
  let padding = 0;
  let entry: TarEntry | undefined;
  let entrySize = 0;
  let metaKind = '';
  let meta: Buffer[] = [];
  let global: PaxValues = {};
  let local: PaxValues = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let endEmitted = false;

  const fail = (why: string): PgkeepError =>
    new PgkeepError('DATA_INTEGRITY', `invalid tar stream at byte ${offset}: ${why}`, {
      hint: 'the backup stream is damaged or not a tar archive; retry the backup',
      details: { offset },
    });

  function onHeader(out: TarEvent[]): void {
    if (header.every((b) => b === 0)) {
      state = 'eof';
      if (!endEmitted) out.push({ type: 'end' });
      endEmitted = true;
      return;
    }
    verifyChecksum();
    const typeflag = header[156] === 0 ? '0' : String.fromCharCode(header[156]!);
    const size = num(124, 12, 'size');
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > MAX_META) throw fail(`extended header of ${size} bytes is too large`);
      metaKind = typeflag;
      meta = [];
      remaining = size;
      padding = pad(size);
      state = remaining > 0 ? 'meta' : padding > 0 ? 'padding' : 'header';
      if (remaining === 0) applyMeta();
      return;
    }
    const magic = header.toString('latin1', 257, 263);
    const posix = magic === 'ustar\0';
    let path = str(0, 100);
    if (posix) {
      const prefix = str(345, 155);
      if (prefix) path = `${prefix}/${path}`;
    }
    const pax: PaxValues = { ...global, ...local };
    if (longName !== undefined) path = longName;
    if (pax.path !== undefined) path = pax.path;
    let linkTarget: string | undefined = str(157, 100);
    if (longLink !== undefined) linkTarget = longLink;
    if (pax.linkpath !== undefined) linkTarget = pax.linkpath;
    // pre-POSIX archives mark directories only by a trailing slash
    const type = typeflag === '0' && path.endsWith('/') ? 'directory' : entryType(typeflag);
    const dataSize = pax.size ?? size;
    const hasData = type === 'file' || type === 'other';
    entry = {
      path: path.length > 1 ? path.replace(/\/+$/, '') : path,
      type,
      typeflag,
      mode: num(100, 8, 'mode') & 0o7777,
      uid: pax.uid ?? num(108, 8, 'uid'),
      gid: pax.gid ?? num(116, 8, 'gid'),
      uname: pax.uname ?? (magic.startsWith('ustar') ? str(265, 32) : ''),
      gname: pax.gname ?? (magic.startsWith('ustar') ? str(297, 32) : ''),
      size: hasData ? dataSize : 0,
      mtime: pax.mtime ?? num(136, 12, 'mtime'),
      ...(type === 'symlink' || type === 'hardlink' ? { linkTarget } : {}),
    };
    local = {};
    longName = undefined;
    longLink = undefined;
    entrySize = entry.size;
    out.push({ type: 'entry', entry });
    remaining = entrySize;
    padding = pad(entrySize);
    if (remaining === 0) {
      out.push({ type: 'entry-end', entry });
      state = padding > 0 ? 'padding' : 'header';
    } else {
      state = 'data';
    }
  }

  function applyMeta(): void {
    const body = Buffer.concat(meta);
    meta = [];
    if (metaKind === 'L') longName = cstr(body);
    else if (metaKind === 'K') longLink = cstr(body);
    else if (metaKind === 'x') local = { ...local, ...parsePax(body) };
    else global = { ...global, ...parsePax(body) };
  }

  function parsePax(body: Buffer): PaxValues {
    const values: PaxValues = {};
    let i = 0;
    while (i < body.length) {
      if (body[i] === 0) break; // some writers pad with NULs
      const space = body.indexOf(0x20, i);
      if (space < 0) throw fail('malformed pax record');
      const len = Number(body.toString('latin1', i, space));
      if (!Number.isInteger(len) || len <= space - i + 1 || i + len > body.length || body[i + len - 1] !== 0x0a) {
        throw fail('malformed pax record length');
      }
      const record = body.subarray(space + 1, i + len - 1);
      const eq = record.indexOf(0x3d);
      if (eq < 0) throw fail('malformed pax record');
      const key = record.toString('utf8', 0, eq);
      const value = record.toString('utf8', eq + 1);
      switch (key) {
        case 'path':
          values.path = value;
          break;
        case 'linkpath':
          values.linkpath = value;
          break;
        case 'uname':
          values.uname = value;
          break;
        case 'gname':
          values.gname = value;
          break;
        case 'size':
          values.size = paxNumber(value, key);
          break;
        case 'uid':
          values.uid = paxNumber(value, key);
          break;
        case 'gid':
          values.gid = paxNumber(value, key);
          break;
        case 'mtime':
          values.mtime = paxNumber(value, key);
          break;
        default:
          break; // atime, ctime, charset, SCHILY.*, LIBARCHIVE.*: not needed
      }
      i += len;
    }
    return values;
  }

  function paxNumber(v: string, key: string): number {
    const n = Number(v);
    if (v === '' || !Number.isFinite(n) || (key !== 'mtime' && !Number.isSafeInteger(n)) || n < 0) {
      throw fail(`invalid pax ${key} "${v}"`);
    }
    return n;
  }

  function verifyChecksum(): void {
    const stored = num(148, 8, 'checksum');
    let unsigned = 0;
    let signed = 0;
    for (let i = 0; i < BLOCK; i++) {
      const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
      unsigned += b;
      signed += b > 127 ? b - 256 : b;
    }
    if (stored !== unsigned && stored !== signed) throw fail('header checksum mismatch');
  }

  function str(at: number, len: number): string {
    const field = header.subarray(at, at + len);
    const nul = field.indexOf(0);
    return field.toString('utf8', 0, nul < 0 ? len : nul);
  }

  function num(at: number, len: number, what: string): number {
    const field = header.subarray(at, at + len);
    if (field[0]! & 0x80) {
      // GNU base-256: big-endian, first byte's top bit is the marker (negative values unsupported)
      if (field[0]! & 0x40) throw fail(`negative ${what}`);
      let v = BigInt(field[0]! & 0x3f);
      for (let i = 1; i < len; i++) v = (v << 8n) | BigInt(field[i]!);
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`${what} too large`);
      return Number(v);
    }
    const text = field
      .toString('latin1')
      .replace(/[\0 ]+$/, '')
      .replace(/^[ ]+/, '');
    if (text === '') return 0;
    if (!/^[0-7]+$/.test(text)) throw fail(`invalid ${what} field`);
    return parseInt(text, 8);
  }

  function push(chunk: Buffer): TarEvent[] {
    const out: TarEvent[] = [];
    let i = 0;
    while (i < chunk.length) {
      switch (state) {
        case 'header': {
          const n = Math.min(BLOCK - headerFill, chunk.length - i);
          chunk.copy(header, headerFill, i, i + n);
          headerFill += n;
          i += n;
          offset += n;
          if (headerFill === BLOCK) {
            headerFill = 0;
            offset -= BLOCK; // report errors at the header's start
            try {
              onHeader(out);
            } finally {
              offset += BLOCK;
            }
          }
          break;
        }
        case 'data': {
          const n = Math.min(remaining, chunk.length - i);
          out.push({ type: 'data', entry: entry!, data: chunk.subarray(i, i + n) });
          remaining -= n;
          i += n;
          offset += n;
          if (remaining === 0) {
            out.push({ type: 'entry-end', entry: entry! });
            state = padding > 0 ? 'padding' : 'header';
          }
          break;
        }
        case 'meta': {
          const n = Math.min(remaining, chunk.length - i);
          meta.push(Buffer.from(chunk.subarray(i, i + n)));
          remaining -= n;
          i += n;
          offset += n;
          if (remaining === 0) {
            applyMeta();
            state = padding > 0 ? 'padding' : 'header';
          }
          break;
        }
        case 'padding': {
          const n = Math.min(padding, chunk.length - i);
          padding -= n;
          i += n;
          offset += n;
          if (padding === 0) state = 'header';
          break;
        }
        case 'eof':
          offset += chunk.length - i;
          i = chunk.length;
          break;
      }
    }
    return out;
  }

  function end(): TarEvent[] {
    if (state === 'eof') return [];
    if (state === 'header' && headerFill === 0 && longName === undefined && longLink === undefined && Object.keys(local).length === 0) {
      endEmitted = true;
      state = 'eof';
      return [{ type: 'end' }];
    }
    throw fail(state === 'data' ? `archive ends inside "${entry!.path}" (${remaining} bytes missing)` : 'archive is truncated');
  }

  return {
    push,
    end,
    get offset() {
      return offset;
    },
  };
}

function pad(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function cstr(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul < 0 ? b.length : nul);
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char-device';
    case '4':
      return 'block-device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return 'other';
  }
}

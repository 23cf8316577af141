import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  linkSync,
  writeFileSync,
  utimesSync,
  chownSync,
  readdirSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import { createTarParser, type TarEntry, type TarEvent } from './tar-parser.js';

let dir: string;
const longComponent = 'L'.repeat(140);
const ustarLongPath = `tree/${'p'.repeat(60)}/${'q'.repeat(60)}/${'n'.repeat(90)}`; // 216 chars: needs the ustar prefix

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-tar-'));
  const t = join(dir, 'src', 'tree');
  mkdirSync(join(t, 'sub', 'deeper'), { recursive: true });
  writeFileSync(join(t, 'hello.txt'), 'hello\n');
  writeFileSync(join(t, 'empty'), '');
  writeFileSync(join(t, 'block512'), randomBytes(512));
  writeFileSync(join(t, 'block513'), randomBytes(513));
  writeFileSync(join(t, 'sub', 'random3000'), randomBytes(3000));
  writeFileSync(join(t, 'sub', 'deeper', 'ünïcødé.dat'), randomBytes(700));
  symlinkSync('hello.txt', join(t, 'link-to-hello'));
  linkSync(join(t, 'hello.txt'), join(t, 'hard-hello'));
  mkdirSync(join(t, 'p'.repeat(60), 'q'.repeat(60)), { recursive: true });
  writeFileSync(join(dir, 'src', ustarLongPath), 'long ustar path\n');
  execFileSync('chmod', ['0640', join(t, 'block512')]);
  execFileSync('chmod', ['0700', join(t, 'sub')]);
  if (userInfo().uid === 0) chownSync(join(t, 'block513'), 101, 104);
  utimesSync(join(t, 'hello.txt'), 1_600_000_000, 1_600_000_000);
  // Only pax and GNU can hold these.
  const x = join(dir, 'src-long', 'tree');
  mkdirSync(join(x, longComponent), { recursive: true });
  writeFileSync(join(x, longComponent, `${longComponent}.bin`), randomBytes(1500));
  symlinkSync(`../${'t'.repeat(150)}`, join(x, 'long-target-link'));
  // Both sources have a directory "tree", archived under the same name: give them one mtime, or the
  // expected entry depends on whether their creation crossed a second boundary.
  for (const s of ['src', 'src-long']) utimesSync(join(dir, s, 'tree'), 1_600_000_000, 1_600_000_000);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function makeTar(format: string, srcs: string[], members: string[] = ['tree']): Buffer {
  const out = join(dir, `${format}-${srcs.length}-${members.length}.tar`);
  const args = [`--format=${format}`, '--sort=name', '-cf', out];
  for (const s of srcs) args.push('-C', join(dir, s), ...members);
  execFileSync('tar', args);
  return readFileSync(out);
}

interface Parsed {
  entry: TarEntry;
  content: Buffer;
}

function parseAll(chunks: Buffer[]): { files: Parsed[]; ended: boolean } {
  const p = createTarParser();
  const files: Parsed[] = [];
  let cur: { entry: TarEntry; parts: Buffer[] } | undefined;
  let ended = false;
  const handle = (evs: TarEvent[]): void => {
    for (const ev of evs) {
      if (ev.type === 'entry') {
        assert.equal(cur, undefined);
        cur = { entry: ev.entry, parts: [] };
      } else if (ev.type === 'data') {
        assert.equal(ev.entry, cur!.entry);
        cur!.parts.push(Buffer.from(ev.data));
      } else if (ev.type === 'entry-end') {
        files.push({ entry: cur!.entry, content: Buffer.concat(cur!.parts) });
        cur = undefined;
      } else {
        assert.equal(ended, false);
        ended = true;
      }
    }
  };
  for (const c of chunks) handle(p.push(c));
  handle(p.end());
  assert.equal(cur, undefined);
  return { files, ended };
}

function expected(
  srcs: string[],
): Map<string, { type: string; size: number; mode: number; uid: number; gid: number; mtime: number; link?: string; content: Buffer }> {
  const m = new Map();
  const walk = (root: string, rel: string): void => {
    const full = join(root, rel);
    const st = lstatSync(full);
    const type = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'file';
    const e: Record<string, unknown> = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (type === 'file') {
      e.content = readFileSync(full);
      e.size = st.size;
    } else {
      e.content = Buffer.alloc(0);
      e.size = 0;
    }
    if (type === 'symlink') e.link = execFileSync('readlink', [full]).toString().trim();
    if (!m.has(rel)) m.set(rel, e);
    if (type === 'directory') for (const n of readdirSync(full)) walk(root, `${rel}/${n}`);
  };
  for (const s of srcs) walk(join(dir, s), 'tree');
  return m;
}

function check(files: Parsed[], srcs: string[]): void {
  const want = expected(srcs);
  const seen = new Set<string>();
  for (const { entry, content } of files) {
    const w = want.get(entry.path);
    assert.ok(w, `unexpected entry ${entry.path}`);
    seen.add(entry.path);
    if (entry.type === 'hardlink') {
      // GNU tar stores the second name it meets as a link to the first
      assert.ok(['tree/hello.txt', 'tree/hard-hello'].includes(entry.path));
      assert.ok(['tree/hello.txt', 'tree/hard-hello'].includes(entry.linkTarget!) && entry.linkTarget !== entry.path);
      assert.equal(entry.size, 0);
      continue;
    }
    assert.equal(entry.type, w.type, entry.path);
    assert.equal(entry.mode, w.mode, entry.path);
    assert.equal(entry.uid, w.uid, entry.path);
    assert.equal(entry.gid, w.gid, entry.path);
    assert.equal(Math.floor(entry.mtime), w.mtime, entry.path);
    assert.equal(entry.size, w.size, entry.path);
    assert.equal(content.length, entry.size, entry.path);
    assert.ok(content.equals(w.content), `content of ${entry.path}`);
    if (w.link !== undefined) assert.equal(entry.linkTarget, w.link);
  }
  assert.deepEqual([...seen].sort(), [...want.keys()].sort());
  const uname = (uid: number): string =>
    execFileSync('id', ['-nu', String(uid)])
      .toString()
      .trim();
  const b513 = files.find((f) => f.entry.path === 'tree/block513')!.entry;
  assert.equal(b513.uname, uname(b513.uid));
}

for (const format of ['ustar', 'pax', 'gnu']) {
  test(`${format} archive from GNU tar: every entry, whole`, () => {
    const srcs = format === 'ustar' ? ['src'] : ['src', 'src-long'];
    const tar = makeTar(format, srcs);
    const { files, ended } = parseAll([tar]);
    assert.equal(ended, true);
    check(files, srcs);
    if (format !== 'ustar') {
      assert.ok(files.some((f) => f.entry.path === `tree/${longComponent}/${longComponent}.bin`));
      assert.equal(files.find((f) => f.entry.path === 'tree/long-target-link')!.entry.linkTarget, `../${'t'.repeat(150)}`);
    }
    assert.ok(files.some((f) => f.entry.path === ustarLongPath));
  });
}

/** One digest over every event, for comparing parses cheaply. */
function digest(chunks: Buffer[]): string {
  const p = createTarParser();
  const h = createHash('sha256');
  const feed = (evs: TarEvent[]): void => {
    for (const ev of evs) {
      if (ev.type === 'data') h.update(ev.data);
      else h.update(`|${ev.type}:${ev.type === 'end' ? '' : JSON.stringify(ev.entry)}|`);
    }
  };
  for (const c of chunks) feed(p.push(c));
  feed(p.end());
  return h.digest('hex');
}

test('same result when the input is split at every byte offset (and byte by byte)', () => {
  for (const format of ['ustar', 'pax', 'gnu']) {
    // a small archive: a tiny file, one needing padding, a symlink, a hard link, a long name
    const members = ['tree/hello.txt', 'tree/block513', 'tree/link-to-hello', 'tree/hard-hello'];
    const full =
      format === 'ustar'
        ? makeTar(format, ['src'], [...members, ustarLongPath])
        : makeTar(format, ['src-long'], ['tree/long-target-link', `tree/${longComponent}/${longComponent}.bin`]);
    // drop tar's record padding after the end-of-archive blocks: nothing to split there
    let last = full.length;
    while (last > 0 && full[last - 1] === 0) last--;
    const tar = full.subarray(0, Math.min(full.length, Math.ceil(last / 512) * 512 + 1024));
    const reference = digest([full]);
    assert.equal(digest([tar]), reference);
    for (let cut = 0; cut <= tar.length; cut++) {
      if (digest([tar.subarray(0, cut), tar.subarray(cut)]) !== reference) assert.fail(`${format}: split at ${cut} differs`);
    }
    const bytes: Buffer[] = [];
    for (let i = 0; i < tar.length; i++) bytes.push(tar.subarray(i, i + 1));
    assert.equal(digest(bytes), reference);
  }
});

test('an archive without the end-of-archive blocks is complete at an entry boundary', () => {
  const tar = makeTar('ustar', ['src']);
  // cut right after the last entry's padded data: find the first all-zero header block
  let endAt = 0;
  const p = createTarParser();
  for (let i = 0; i < tar.length; i += 512) {
    const evs = p.push(tar.subarray(i, i + 512));
    if (evs.some((e) => e.type === 'end')) {
      endAt = i;
      break;
    }
  }
  assert.ok(endAt > 0);
  const { files, ended } = parseAll([tar.subarray(0, endAt)]);
  assert.equal(ended, true);
  check(files, ['src']);
});

test('damage is reported as DATA_INTEGRITY', () => {
  const tar = makeTar('ustar', ['src']);
  const isIntegrity = (e: unknown): boolean => e instanceof PgkeepError && e.code === 'DATA_INTEGRITY';
  const bad = Buffer.from(tar);
  bad[0] = bad[0]! ^ 1; // first header's name: checksum no longer matches
  assert.throws(() => parseAll([bad]), isIntegrity);
  // truncated inside a file's content
  const file = parseAll([tar]).files.find((f) => f.entry.path === 'tree/sub/random3000')!;
  assert.ok(file);
  let cutAt = -1;
  const p = createTarParser();
  for (let i = 0; i < tar.length && cutAt < 0; i += 512) {
    for (const ev of p.push(tar.subarray(i, i + 512)))
      if (ev.type === 'entry' && ev.entry.path === 'tree/sub/random3000') cutAt = i + 512 + 100;
  }
  assert.throws(
    () => parseAll([tar.subarray(0, cutAt)]),
    (e: unknown) => isIntegrity(e) && /random3000/.test((e as Error).message),
  );
  // truncated inside a header
  assert.throws(() => parseAll([tar.subarray(0, 700)]), isIntegrity);
  assert.throws(() => parseAll([Buffer.from('this is not a tar archive'.repeat(30))]), isIntegrity);
});

test('GNU base-256 numbers and pax size/mtime overrides', () => {
  // Hand-made header: a file with a base-256 size field.
  const h = Buffer.alloc(512);
  h.write('big.bin', 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h[124] = 0x80;
  h.writeUIntBE(1000, 124 + 6, 6); // size 1000 in base-256 (12 byte field)
  h.write('14000000000\0', 136);
  h[156] = 0x30;
  h.write('ustar\0', 257);
  h.write('00', 263);
  const sum = (b: Buffer): number => {
    let s = 0;
    for (let i = 0; i < 512; i++) s += i >= 148 && i < 156 ? 32 : b[i]!;
    return s;
  };
  h.write(sum(h).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  const body = randomBytes(1000);
  const tar = Buffer.concat([h, body, Buffer.alloc(24), Buffer.alloc(1024)]);
  const { files } = parseAll([tar]);
  assert.equal(files.length, 1);
  assert.equal(files[0]!.entry.size, 1000);
  assert.equal(files[0]!.entry.mtime, 0o14000000000);
  assert.ok(files[0]!.content.equals(body));
});

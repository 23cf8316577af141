import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseControlFile } from './control-file.js';
import { CONTROL_FILES } from './control-file.fixtures.js';
import { readControlData } from './control.js';
import { findPgTool } from './bin.js';
import { PgkeepError } from '../errors.js';

const work = mkdtempSync(join(tmpdir(), 'pgkeep-control-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** The fixture as the 8192-byte file PostgreSQL writes. */
function file(major: number): Buffer {
  const b = Buffer.alloc(8192);
  Buffer.from(CONTROL_FILES[major]!.base64, 'base64').copy(b);
  return b;
}

function dataDir(name: string, major: number, control: Buffer): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'global'), { recursive: true });
  writeFileSync(join(dir, 'PG_VERSION'), `${major}\n`);
  writeFileSync(join(dir, 'global', 'pg_control'), control);
  return dir;
}

for (const major of [13, 14, 15, 16, 17, 18]) {
  test(`pg_control of PostgreSQL ${major}: CRC checked, every field as the server reports it`, () => {
    const e = CONTROL_FILES[major]!.expect;
    const r = parseControlFile(file(major));
    assert.ok(r.ok, JSON.stringify(r));
    assert.deepEqual(
      {
        sysid: r.fields['Database system identifier'],
        pcv: Number(r.fields['pg_control version number']),
        cat: Number(r.fields['Catalog version number']),
        ckpt: r.fields['Latest checkpoint location'],
        redo: r.fields["Latest checkpoint's REDO location"],
        redofile: r.fields["Latest checkpoint's REDO WAL file"],
        tli: Number(r.fields["Latest checkpoint's TimeLineID"]),
        csum: Number(r.fields['Data page checksum version']),
        blcksz: Number(r.fields['Database block size']),
        segsize: Number(r.fields['Bytes per WAL segment']),
        wal_level: r.fields['wal_level setting'],
      },
      e,
    );
    assert.equal(r.fields['Database cluster state'], 'shut down');
  });
}

test('a damaged pg_control fails its CRC; an unknown version is not guessed at; readControlData says DATA_INTEGRITY', async () => {
  const damaged = file(17);
  damaged[20] = damaged[20]! ^ 0x01;
  assert.deepEqual(parseControlFile(damaged), { ok: false, reason: 'crc', pgControlVersion: 1700 });
  const future = file(18);
  future.writeUInt32LE(1900, 8);
  assert.deepEqual(parseControlFile(future), { ok: false, reason: 'unknown-version', pgControlVersion: 1900 });
  assert.deepEqual(parseControlFile(Buffer.alloc(10)), { ok: false, reason: 'short' });
  await assert.rejects(
    readControlData(dataDir('damaged', 17, damaged)),
    (err: unknown) =>
      err instanceof PgkeepError && err.code === 'DATA_INTEGRITY' && /pg_control is damaged: its CRC does not match/.test(err.message),
  );
  const ok = await readControlData(dataDir('good', 17, file(17)));
  assert.equal(ok.systemIdentifier, CONTROL_FILES[17]!.expect.sysid);
  assert.equal(ok.cleanlyShutDown, true);
  assert.equal(ok.timeline, 1);
});

test('on the 1300 layout (13 to 16) every field equals what pg_controldata 15 prints for the same file', async (t) => {
  let tool;
  try {
    tool = await findPgTool('pg_controldata', { exactMajor: 15 });
  } catch {
    return t.skip('no pg_controldata 15 here');
  }
  for (const major of [13, 14, 15, 16]) {
    const dir = dataDir(`cross-${major}`, major, file(major));
    const text: string = execFileSync(tool.path, ['-D', dir], { env: { ...process.env, LC_ALL: 'C', LANG: 'C' } }).toString();
    const printed: Record<string, string> = Object.fromEntries(
      text
        .split('\n')
        .filter((l: string) => l.includes(':'))
        .map((l: string) => [l.slice(0, l.indexOf(':')).trim(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    const r = parseControlFile(file(major));
    assert.ok(r.ok);
    for (const [k, v] of Object.entries(r.fields)) assert.equal(v, printed[k], `${major}: "${k}"`);
  }
});

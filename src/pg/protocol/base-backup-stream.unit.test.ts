import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import type { BaseBackupDialect } from './base-backup-dialect.js';
import { BaseBackupStream } from './base-backup-stream.js';
import type { PgConnection } from './copy-command.js';
import { createTarParser } from './tar-parser.js';

/** What the server sends, as the CopyCommand's handlers see it. */
type Step =
  | { rs: (string | null)[][]; columns: string[] }
  | { copyStart: true }
  | { data: Buffer }
  | { copyDone: true }
  | { error: Error }
  | { ready: true };

let dir: string;
let tsTar: Buffer;
let baseTar: Buffer;
const manifest = Buffer.from(`{ "PostgreSQL-Backup-Manifest-Version": 1, "Files": [${'{"Path": "x"},'.repeat(20)}] }\n`);
const TS_OID = '16389';
const TS_LOCATION = '/srv/ts one';
const START = { columns: ['recptr', 'tli'], rs: [['0/2000028', '1']] };
const HEADER = {
  columns: ['spcoid', 'spclocation', 'size'],
  rs: [
    [TS_OID, TS_LOCATION, '12'],
    [null, null, '40'],
  ],
};
const END = { columns: ['recptr', 'tli'], rs: [['0/2000100', '1']] };

/** A tar as BASE_BACKUP sends it: ustar, without the end-of-archive blocks. */
function serverTar(root: string): Buffer {
  const out = `${root}.tar`;
  execFileSync('tar', ['--format=ustar', '--sort=name', '-cf', out, '-C', root, ...readdirSync(root).sort()]);
  const full = readFileSync(out);
  const p = createTarParser();
  for (let i = 0; i < full.length; i += 512) {
    if (p.push(full.subarray(i, i + 512)).some((e) => e.type === 'end')) return full.subarray(0, i);
  }
  throw new Error('no end-of-archive block');
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pgkeep-bbstream-'));
  const ts = join(dir, 'ts');
  mkdirSync(join(ts, 'PG_13_202007201', '16384'), { recursive: true });
  writeFileSync(join(ts, 'PG_13_202007201', '16384', '16390'), randomBytes(300));
  const base = join(dir, 'base');
  mkdirSync(join(base, 'base', '1'), { recursive: true });
  mkdirSync(join(base, 'pg_tblspc'));
  mkdirSync(join(base, 'pg_wal'));
  writeFileSync(join(base, 'backup_label'), 'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n');
  writeFileSync(join(base, 'base', '1', '1259'), randomBytes(600));
  writeFileSync(join(base, 'base', '1', 'pg_filenode.map'), randomBytes(13));
  writeFileSync(join(base, 'pg_wal', '000000010000000000000002'), randomBytes(512));
  symlinkSync(TS_LOCATION, join(base, 'pg_tblspc', TS_OID));
  for (const d of [ts, base]) execFileSync('find', [d, '-exec', 'touch', '-h', '-d', '@1600000000', '{}', '+']);
  tsTar = serverTar(ts);
  baseTar = serverTar(base);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** PostgreSQL 15+: one CopyOut with typed messages. */
function currentFraming(): Step[] {
  const msg = (type: string, body: Buffer): Step => ({ data: Buffer.concat([Buffer.from(type), body]) });
  return [
    START,
    HEADER,
    { copyStart: true },
    msg('n', Buffer.from(`${TS_OID}.tar\0${TS_LOCATION}\0`)),
    msg('d', tsTar),
    msg('n', Buffer.from('base.tar\0\0')),
    msg('d', baseTar.subarray(0, 1000)),
    msg('d', baseTar.subarray(1000)),
    msg('m', Buffer.alloc(0)),
    msg('d', manifest),
    { copyDone: true },
    END,
    { ready: true },
  ];
}

/**
 * PostgreSQL 13/14: one CopyOut per archive (tablespace first, data directory last) and one for
 * the manifest, raw bytes. `cut` splits the concatenation of all their bytes into two CopyData
 * messages at that offset; `bytewise` sends every byte as its own message.
 */
function legacyFraming(o: { cut?: number; bytewise?: boolean; parts?: Buffer[] } = {}): Step[] {
  const steps: Step[] = [START, HEADER];
  let at = 0;
  for (const part of o.parts ?? [tsTar, baseTar, manifest]) {
    steps.push({ copyStart: true });
    if (o.bytewise) for (let i = 0; i < part.length; i++) steps.push({ data: part.subarray(i, i + 1) });
    else if (o.cut !== undefined && o.cut > at && o.cut < at + part.length) {
      steps.push({ data: part.subarray(0, o.cut - at) }, { data: part.subarray(o.cut - at) });
    } else steps.push({ data: part });
    at += part.length;
    steps.push({ copyDone: true });
  }
  steps.push(END, { ready: true });
  return steps;
}

class FakeConnection extends EventEmitter {
  destroyed = false;
  readonly stream = {
    pause: () => undefined,
    resume: () => undefined,
    destroy: () => {
      this.destroyed = true;
    },
  };
  query(): void {}
  sendCopyFromChunk(): void {}
  endCopyFrom(): void {}
}

/** Replays `steps` into a BaseBackupStream, as node-postgres would call its handlers. */
function replay(dialect: BaseBackupDialect, steps: Step[]): BaseBackupStream {
  const s = new BaseBackupStream('BASE_BACKUP', { dialect }, () => undefined);
  const conn = new FakeConnection();
  const cmd = s.command;
  cmd.submit(conn as unknown as PgConnection);
  for (const st of steps) {
    if ('rs' in st) {
      cmd.handleRowDescription({ fields: st.columns.map((name) => ({ name })) });
      for (const row of st.rs) cmd.handleDataRow({ fields: row });
      cmd.handleCommandComplete();
    } else if ('copyStart' in st) conn.emit('copyOutResponse');
    else if ('data' in st) cmd.handleCopyData({ chunk: st.data });
    else if ('copyDone' in st) conn.emit('copyDone');
    else if ('error' in st) cmd.handleError(st.error);
    else cmd.handleReadyForQuery();
  }
  return s;
}

/** Every event, one line each (file contents as SHA-256); progress reports left out. */
async function transcript(s: BaseBackupStream): Promise<string[]> {
  const lines: string[] = [];
  for await (const ev of s) {
    if (ev.type === 'progress') continue;
    if (ev.type === 'file') {
      const h = createHash('sha256');
      // everything was replayed before reading: the bytes are all there, read them at once
      for (let c = ev.content.read() as Buffer | null; c !== null; c = ev.content.read() as Buffer | null) h.update(c);
      const { content: _, ...rest } = ev;
      lines.push(`file ${JSON.stringify(rest)} ${h.digest('hex')}`);
    } else if (ev.type === 'manifest') lines.push(`manifest ${ev.content.toString('base64')}`);
    else lines.push(`${ev.type} ${JSON.stringify(ev, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
  }
  return lines;
}

test('13/14 framing gives the same events as the 15+ framing: archives, files, WAL in base.tar, manifest, end', async () => {
  const current = await transcript(replay('current', currentFraming()));
  const legacy = await transcript(replay('legacy', legacyFraming()));
  assert.deepEqual(legacy, current);
  const kinds = legacy.map((l) => l.split(' ')[0]);
  assert.equal(kinds[0], 'start');
  assert.equal(kinds.at(-2), 'manifest');
  assert.equal(kinds.at(-1), 'end');
  assert.match(
    legacy[0]!,
    /"startLsn":"2000028".*"tablespaces":\[\{"oid":16389,"location":"\/srv\/ts one","sizeBytes":12288\}\].*"totalBytes":53248/,
  );
  const files = legacy
    .filter((l) => l.startsWith('file '))
    .map((l) => JSON.parse(l.slice(5, l.lastIndexOf(' '))) as { path: string; archive: string });
  assert.deepEqual(
    files.filter((f) => f.archive === `${TS_OID}.tar`).map((f) => f.path),
    ['PG_13_202007201', 'PG_13_202007201/16384', 'PG_13_202007201/16384/16390'].map((p) => `pg_tblspc/${TS_OID}/${p}`),
  );
  assert.ok(files.some((f) => f.archive === 'base.tar' && f.path === 'pg_wal/000000010000000000000002'));
  assert.ok(files.some((f) => f.archive === 'base.tar' && f.path === `pg_tblspc/${TS_OID}`));
  assert.ok(files.some((f) => f.path === `pg_tblspc/${TS_OID}/PG_13_202007201/16384/16390`));
});

test('13/14 framing: the same result when the CopyData boundaries fall at every byte offset (and byte by byte)', async () => {
  const reference = await transcript(replay('legacy', legacyFraming()));
  const total = tsTar.length + baseTar.length + manifest.length;
  for (let cut = 1; cut < total; cut++) {
    const got = await transcript(replay('legacy', legacyFraming({ cut })));
    if (got.join('\n') !== reference.join('\n')) assert.deepEqual(got, reference, `split at ${cut}`);
  }
  assert.deepEqual(await transcript(replay('legacy', legacyFraming({ bytewise: true }))), reference);
});

const failsWith =
  (code: string, re: RegExp) =>
  (e: unknown): boolean => {
    assert.ok(e instanceof PgkeepError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return true;
  };

test('13/14 framing: a CopyOut that ends inside a file is DATA_INTEGRITY naming the file', async () => {
  const fileStart = baseTar.indexOf('base/1/1259');
  assert.ok(fileStart > 0);
  const cutTar = baseTar.subarray(0, fileStart + 512 + 300); // the header and 300 of its 600 bytes
  await assert.rejects(
    transcript(replay('legacy', legacyFraming({ parts: [tsTar, cutTar, manifest] }))),
    failsWith('DATA_INTEGRITY', /1259/),
  );
});

test("13/14 framing: an ErrorResponse between two archives fails the stream with the server's message", async () => {
  const steps = legacyFraming();
  const afterTs = steps.findIndex((s) => 'copyDone' in s);
  const err = Object.assign(new Error('could not read file "base/1/1259": Input/output error'), { severity: 'ERROR', code: '58030' });
  await assert.rejects(
    transcript(replay('legacy', [...steps.slice(0, afterTs + 1), { error: err }])),
    failsWith('SERVER_NOT_READY', /BASE_BACKUP failed: could not read file "base\/1\/1259"/),
  );
  // and while an archive is under way: its open file's reader sees the failure too
  const inFile = steps.findIndex((s, i) => i > afterTs && 'data' in s);
  const s = replay('legacy', [...steps.slice(0, inFile), { data: baseTar.subarray(0, baseTar.indexOf('base/1/1259') + 700) }]);
  let reading: Promise<unknown> | undefined;
  await assert.rejects(
    (async () => {
      for await (const ev of s) {
        if (ev.type === 'file' && ev.path === 'base/1/1259') {
          reading = (async () => {
            for await (const _ of ev.content);
          })();
          s.command.handleError(err); // arrives while the consumer reads the file
        } else if (ev.type === 'file') ev.content.resume();
      }
    })(),
    failsWith('SERVER_NOT_READY', /could not read file/),
  );
  assert.ok(reading, 'the file under way was handed over');
  await assert.rejects(reading);
});

test('13/14 framing: more archives than announced, or an end before every archive, are protocol errors', async () => {
  const extra = legacyFraming({ parts: [tsTar, baseTar, manifest, tsTar] });
  await assert.rejects(transcript(replay('legacy', extra)), failsWith('CONNECTION', /more CopyOut|archives/));
  const missing = legacyFraming({ parts: [tsTar] });
  await assert.rejects(transcript(replay('legacy', missing)), failsWith('CONNECTION', /1 of 2 archives/));
});

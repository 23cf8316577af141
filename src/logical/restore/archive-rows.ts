/**
 * The rows of a custom-format archive's TABLE DATA entries, read straight from the archive as it
 * streams from the repository: the same events as pg_restore's data script gives through
 * copy-stream.ts, without a pg_restore process in between (nor every byte through a pipe to it
 * and back). Only archives pg_dump did not compress (pgkeep's dumps into a compressing repository)
 * and versions custom-archive-head.ts knows; anything else goes through pg_restore.
 *
 * After the table of contents come the data blocks in the order of their entries: a block type
 * (1: a table's rows, 3: large objects), the entry's dump id, then chunks, each an int length and
 * that many bytes, ending with a zero length (large objects: an oid before each object's chunks,
 * and a zero oid at the end). pg_dump writes a table's rows in COPY text format; a chunk that ends
 * with a newline ends a row (a newline inside a value is written as \n), so batches are cut there.
 */
import { copyTarget, type CopyStreamEvent, ScriptCut, UnexpectedStatement } from './copy-stream.js';
import { type CustomArchiveHead, readArchiveInt } from '../toc/custom-archive-head.js';

const BLOCK_DATA = 1;
const BLOCK_LARGE_OBJECTS = 3;
const NL = 0x0a;
const DOT = 0x2e;
const BACKSLASH = 0x5c;
/** Rows are copied into buffers of this size (the input's buffers are not kept). */
const ARENA = 1024 * 1024;
const UTF8_NAMES = new Set(['UTF8', 'UTF-8', 'UNICODE']);

/** Reads the input as a sequence of archive values, waiting for more only when a value is not all there. */
class Feed {
  buf: Buffer = Buffer.alloc(0);
  at = 0;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  get available(): number {
    return this.buf.length - this.at;
  }

  /** At least `n` bytes ready; false at the end of the input. */
  async fill(n: number): Promise<boolean> {
    while (this.available < n) {
      const r = await this.it.next();
      if (r.done) return false;
      const chunk = r.value;
      this.buf = this.available ? Buffer.concat([this.buf.subarray(this.at), chunk]) : chunk;
      this.at = 0;
    }
    return true;
  }

  skip(n: number): void {
    this.at += n;
  }

  byte(): number {
    return this.buf[this.at++]!;
  }

  int(intSize: number): number {
    const v = readArchiveInt(this.buf, this.at, intSize)!;
    this.at += 1 + intSize;
    return v;
  }

  /** Up to `n` bytes of what is there (at least one), as a view. */
  take(n: number): Buffer {
    const k = Math.min(n, this.available);
    const b = this.buf.subarray(this.at, this.at + k);
    this.at += k;
    return b;
  }
}

/** Row bytes gathered for the next batch, copied into arenas. */
class Batch {
  pieces: Buffer[] = [];
  bytes = 0;
  private arena = Buffer.allocUnsafe(ARENA);
  private used = 0;
  private start = 0;

  /** Bytes `from` to `to` of `b`, copied. */
  add(b: Buffer, from: number, to: number): void {
    const n = to - from;
    this.room(n);
    b.copy(this.arena, this.used, from, to);
    this.used += n;
    this.bytes += n;
  }

  /**
   * The data of the whole chunks `from` to `to` of `b` (each an int length and its bytes): the
   * span is copied in one piece, then each chunk's data moved down over the length before it.
   */
  addChunks(b: Buffer, from: number, to: number, intSize: number): void {
    this.room(to - from);
    const a = this.arena;
    b.copy(a, this.used, from, to);
    let src = this.used;
    let dst = this.used;
    const end = this.used + (to - from);
    while (src < end) {
      const n = readArchiveInt(a, src, intSize)!;
      a.copyWithin(dst, src + 1 + intSize, src + 1 + intSize + n);
      dst += n;
      src += 1 + intSize + n;
    }
    this.bytes += dst - this.used;
    this.used = dst;
  }

  /** The rows gathered so far (none: undefined). */
  take(): CopyStreamEvent | undefined {
    this.close();
    this.dropEndMarker();
    const ev: CopyStreamEvent = { kind: 'rows', data: this.pieces, bytes: this.bytes };
    this.pieces = [];
    this.bytes = 0;
    return ev.bytes ? ev : undefined;
  }

  /**
   * pg_dump ends a table's data with the line `\.` and blank lines, which pg_restore passes on
   * and the server takes as the end of the rows. It is dropped here: the rows go to several
   * sessions, and none should see it. (A row cannot be `\.`: a backslash in a value is `\\`.)
   */
  private dropEndMarker(): void {
    const last = this.pieces[this.pieces.length - 1];
    if (!last) return;
    let end = last.length;
    while (end > 0 && last[end - 1] === NL) end--;
    if (end < 2 || last[end - 1] !== DOT || last[end - 2] !== BACKSLASH || end === last.length) return;
    const rowStart =
      end === 2 ? (this.pieces.length === 1 ? true : this.pieces[this.pieces.length - 2]!.at(-1) === NL) : last[end - 3] === NL;
    if (!rowStart) return;
    this.bytes -= last.length - (end - 2);
    if (end === 2) this.pieces.pop();
    else this.pieces[this.pieces.length - 1] = last.subarray(0, end - 2);
  }

  /** `n` bytes free in the arena: else a new one. */
  private room(n: number): void {
    if (this.used + n <= this.arena.length) return;
    this.close();
    this.arena = Buffer.allocUnsafe(Math.max(ARENA, n));
    this.used = 0;
    this.start = 0;
  }

  private close(): void {
    if (this.used > this.start) this.pieces.push(this.arena.subarray(this.start, this.used));
    this.start = this.used;
  }
}

/**
 * Events for the entries `wanted` (dump ids of TABLE DATA entries), in the archive's order, from
 * `input`: the whole archive from its first byte. Stops reading once every wanted entry is read.
 */
export async function* archiveRowEvents(
  input: AsyncIterable<Buffer>,
  head: CustomArchiveHead,
  wanted: Set<number>,
  batchBytes: number,
  clientEncoding: string,
): AsyncGenerator<CopyStreamEvent> {
  const byId = new Map(head.entries.map((e) => [e.dumpId, e]));
  const it = input[Symbol.asyncIterator]();
  const f = new Feed(it);
  const intSize = head.intSize;
  const left = new Set(wanted);
  let table = '';
  const need = async (n: number, where: string) => {
    if (f.available < n && !(await f.fill(n))) throw new ScriptCut(`the archive ended ${where}`);
  };
  try {
    await need(head.dataStart, 'inside its table of contents');
    f.skip(head.dataStart);
    while (left.size) {
      if (!(await f.fill(1))) {
        const missing = [...left].map((id) => byId.get(id)?.tag ?? String(id));
        throw new ScriptCut(`the archive ended before the rows of ${missing.join(', ')}`);
      }
      await need(2 + intSize, 'inside a block header');
      const type = f.byte();
      const id = f.int(intSize);
      if (type !== BLOCK_DATA && type !== BLOCK_LARGE_OBJECTS) throw new UnexpectedStatement(`a data block of type ${type} (entry ${id})`);
      const entry = left.has(id) && type === BLOCK_DATA ? byId.get(id) : undefined;
      if (!entry) {
        await skipBlock(f, type, intSize, need);
        continue;
      }
      const line = (entry.copyStmt ?? Buffer.alloc(0)).toString('utf8').trimEnd();
      table = copyTarget(line) ?? '';
      if (!table) throw new UnexpectedStatement(`entry ${id} (${entry.tag}) has no COPY statement: ${line.slice(0, 200)}`);
      if (!UTF8_NAMES.has(clientEncoding.toUpperCase()) && entry.copyStmt!.some((b) => b >= 0x80))
        throw new UnexpectedStatement(
          `a COPY line names a table with non-ASCII characters in client encoding ${clientEncoding}: ${line.slice(0, 200)}`,
        );
      yield { kind: 'start', sql: line, table };
      const batch = new Batch();
      for (;;) {
        // Chunks wholly in the buffer at hand, without waiting (most of them: a chunk is a row or a few).
        const buf = f.buf;
        let at = f.at;
        let ended = false;
        while (at + 1 + intSize <= buf.length) {
          // A run of whole chunks, up to the batch size: copied at once, their headers squeezed out after.
          const from = at;
          let rows = 0;
          let full = false;
          while (at + 1 + intSize <= buf.length) {
            const n = readArchiveInt(buf, at, intSize)!;
            if (n <= 0) {
              ended = true;
              break;
            }
            const to = at + 1 + intSize + n;
            if (to > buf.length) break;
            at = to;
            rows += n;
            if (batch.bytes + rows >= batchBytes && buf[to - 1] === NL) {
              full = true;
              break;
            }
          }
          if (at > from) batch.addChunks(buf, from, at, intSize);
          if (ended) {
            at += 1 + intSize;
            break;
          }
          if (!full) break;
          f.at = at;
          const ev = batch.take();
          if (ev) yield ev;
        }
        f.at = at;
        if (ended) break;
        // A chunk across the input's buffers.
        if (f.available < 1 + intSize) await need(1 + intSize, `inside the rows of ${table}`);
        let n = f.int(intSize);
        if (n <= 0) break;
        let last = 0;
        while (n > 0) {
          if (f.available < 1) await need(1, `inside the rows of ${table}`);
          const from = f.at;
          const k = Math.min(n, f.available);
          batch.add(f.buf, from, from + k);
          f.skip(k);
          n -= k;
          last = f.buf[from + k - 1]!;
        }
        const ev = batch.bytes >= batchBytes && last === NL ? batch.take() : undefined;
        if (ev) yield ev;
      }
      const rest = batch.take();
      if (rest) yield rest;
      yield { kind: 'end' };
      left.delete(id);
    }
  } finally {
    await it.return?.();
  }
}

/** Past a block not wanted: its chunks (a table's rows), or its objects' chunks (large objects). */
async function skipBlock(f: Feed, type: number, intSize: number, need: (n: number, where: string) => Promise<void>): Promise<void> {
  const chunks = async () => {
    for (;;) {
      await need(1 + intSize, 'inside a data block');
      let n = f.int(intSize);
      if (n <= 0) return;
      while (n > 0) {
        await need(1, 'inside a data block');
        n -= f.take(n).length;
      }
    }
  };
  if (type === BLOCK_DATA) return chunks();
  for (;;) {
    await need(1 + intSize, 'inside the large objects');
    if (f.int(intSize) === 0) return;
    await chunks();
  }
}

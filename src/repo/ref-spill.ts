/**
 * References to blobs in bounded memory, for gc, repo check and expire's estimate: fixed-width
 * binary records keyed by (pack number, offset in the pack, user snapshot), each followed by
 * facts the caller writes. Records are held in memory up to a budget; past it they are sorted,
 * the exact repeats (same blob, same snapshot) dropped, and written as one sorted run to an
 * unlinked temporary file in TMPDIR (record-spill.ts's). `merged()` walks every record in key
 * order (a k-way merge of the runs through a heap), so all references to one blob come together
 * and blobs come pack by pack in offset order. Memory: the budget's records twice (held and
 * sorted) plus read buffers (64 KiB per run, 16 MiB for all runs together), whatever the
 * repository's size; disk: the record width per distinct (blob, snapshot) pair.
 */
import type { FileHandle } from 'node:fs/promises';
import { PgkeepError } from '../errors.js';
import { openUnlinked, spillError, type SpillWhat } from './record-spill.js';

/** Bytes of the key at the head of every record: pack number u32, offset u48, user u32. */
export const REF_KEY_BYTES = 14;
/** Records held before a run is written. */
export const REF_BUDGET = 128 * 1024;
/** Bytes read from a run at a time during the merge, and for all runs together at most. */
const READ_BYTES = 64 * 1024;
const READ_BYTES_ALL = 16 * 1024 * 1024;

const SPILL: SpillWhat = {
  name: 'temporary list of blob references',
  what: 'temporary list of blob references of the repository',
  room: 'about 60 bytes per chunk of every snapshot',
};

/** A record being read: `buf` holds it at `at` (valid until the next step of the walk). */
export interface RefCursor {
  buf: Buffer;
  at: number;
}

interface Source extends RefCursor {
  /** Next byte of the run to load into buf, and where the run ends (file runs). */
  next: number;
  end: number;
  /** Bytes of buf holding records. */
  filled: number;
}

export class RefSpill {
  private held: Buffer;
  private sortedBuf: Buffer;
  private count = 0;
  private readonly packs: Uint32Array;
  private readonly offsets: Float64Array;
  private readonly users: Uint32Array;
  private file: FileHandle | undefined;
  private size = 0;
  private readonly runs: { start: number; end: number }[] = [];
  /** Bytes of sorted records in sortedBuf when nothing was spilled (set by the first walk). */
  private inMemory = -1;

  constructor(
    readonly width: number,
    private readonly budget = REF_BUDGET,
  ) {
    if (width < REF_KEY_BYTES) throw new PgkeepError('INTERNAL', `a reference record of ${width} bytes has no room for its key`);
    this.held = Buffer.alloc(budget * width);
    this.sortedBuf = Buffer.alloc(budget * width);
    this.packs = new Uint32Array(budget);
    this.offsets = new Float64Array(budget);
    this.users = new Uint32Array(budget);
  }

  /** Runs written to the temporary file so far. */
  get spilledRuns(): number {
    return this.runs.length;
  }

  /** The buffer to write a reserved record's facts into (at the position `reserve` returned). */
  get buffer(): Buffer {
    return this.held;
  }

  /** Whether the budget is used up: call `flush()` before the next `reserve`. */
  get full(): boolean {
    return this.count >= this.budget;
  }

  /** Room for one record, its key written; returns the record's position in `buffer`. */
  reserve(pack: number, offset: number, user: number): number {
    if (this.inMemory >= 0) throw new PgkeepError('INTERNAL', 'a reference record was added after the references were walked');
    if (this.full) throw new PgkeepError('INTERNAL', 'a reference record was added past the budget without a flush');
    const i = this.count++;
    const at = i * this.width;
    this.packs[i] = pack;
    this.offsets[i] = offset;
    this.users[i] = user;
    this.held.writeUInt32BE(pack, at);
    this.held.writeUIntBE(offset, at + 4, 6);
    this.held.writeUInt32BE(user, at + 10);
    return at;
  }

  /** Write the held records as one sorted run. */
  async flush(): Promise<void> {
    if (this.count === 0) return;
    const bytes = this.sortHeld();
    const file = this.file ?? (this.file = await openUnlinked('pgkeep-refs-', SPILL));
    const start = this.size;
    try {
      let done = 0;
      while (done < bytes) done += (await file.write(this.sortedBuf, done, bytes - done, start + done)).bytesWritten;
    } catch (e) {
      throw spillError(e, SPILL);
    }
    this.size += bytes;
    this.runs.push({ start, end: this.size });
  }

  /**
   * Every record in key order (repeats within a run dropped; across runs they follow each other).
   * The cursor is reused: read the record before the next step. Can be walked again afterwards.
   */
  async *merged(): AsyncGenerator<RefCursor> {
    const sources: Source[] = [];
    if (this.runs.length === 0) {
      // everything fitted in memory: no temporary file at all
      if (this.inMemory < 0) this.inMemory = this.sortHeld();
      sources.push({ buf: this.sortedBuf, at: 0, next: 0, end: 0, filled: this.inMemory });
    } else {
      await this.flush();
      for (const r of this.runs) {
        const s: Source = {
          buf: Buffer.alloc(Math.max(1, Math.floor(READ_BYTES / this.width)) * this.width),
          at: 0,
          next: r.start,
          end: r.end,
          filled: 0,
        };
        if (await this.load(s)) sources.push(s);
      }
    }
    const heap = new SourceHeap(sources.filter((s) => s.filled > 0));
    for (let top = heap.top(); top; top = heap.top()) {
      yield top;
      top.at += this.width;
      if (top.at >= top.filled && !(await this.load(top))) heap.pop();
      else heap.sift();
    }
  }

  /** Close and drop the temporary file (idempotent). */
  async close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    await f?.close();
  }

  /** Sort the held records into sortedBuf, drop exact repeats, empty the budget; returns the bytes. */
  private sortHeld(): number {
    const { packs, offsets, users } = this;
    const order = new Uint32Array(this.count);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => packs[a]! - packs[b]! || offsets[a]! - offsets[b]! || users[a]! - users[b]!);
    let out = 0;
    let last = -1;
    for (const i of order) {
      if (last >= 0 && packs[i] === packs[last] && offsets[i] === offsets[last] && users[i] === users[last]) continue;
      this.held.copy(this.sortedBuf, out, i * this.width, (i + 1) * this.width);
      out += this.width;
      last = i;
    }
    this.count = 0;
    return out;
  }

  /** Load the next records of a file run into its buffer; false when the run is done. */
  private async load(s: Source): Promise<boolean> {
    if (s.next >= s.end) return false;
    const want = Math.min(s.buf.length, s.end - s.next);
    let done = 0;
    while (done < want) {
      const { bytesRead } = await this.file!.read(s.buf, done, want - done, s.next + done);
      if (bytesRead === 0) throw new PgkeepError('INTERNAL', 'the temporary list of blob references ended early');
      done += bytesRead;
    }
    s.next += want;
    s.filled = want;
    s.at = 0;
    return true;
  }
}

/** Compare the keys of two cursors' records. */
function compareKeys(a: RefCursor, b: RefCursor): number {
  return a.buf.compare(b.buf, b.at, b.at + REF_KEY_BYTES, a.at, a.at + REF_KEY_BYTES);
}

/** A binary min-heap of sources by their current record's key. */
class SourceHeap {
  constructor(private readonly items: Source[]) {
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  top(): Source | undefined {
    return this.items[0];
  }

  /** The top's key grew: restore the order. */
  sift(): void {
    this.down(0);
  }

  pop(): void {
    const last = this.items.pop()!;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.down(0);
    }
  }

  private down(i: number): void {
    const h = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && compareKeys(h[l]!, h[m]!) < 0) m = l;
      if (r < h.length && compareKeys(h[r]!, h[m]!) < 0) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

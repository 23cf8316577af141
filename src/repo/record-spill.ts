/**
 * The file records of a snapshot being written, in bounded memory. Records arrive in any order
 * (files are stored largest first, in parallel); the file list must be written sorted by path.
 * Records are kept in memory up to a budget of chunks; past it, they are sorted and written to a
 * temporary file as one sorted run, and `sorted()` merges the runs (an external merge sort).
 * Memory stays at about the budget (~150 bytes per chunk held) whatever the snapshot's size; the
 * temporary file takes about 50 bytes per chunk (deflated records; ~0.4 GB per TiB), in TMPDIR.
 *
 * The temporary file is unlinked as soon as it is opened, so a killed process leaves nothing
 * behind (the space is freed when the descriptor closes).
 */
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { diskFullError, PgkeepError } from '../errors.js';
import { decodePart, encodePart, type FileRecord } from './manifest.js';

/** Chunks held in memory before a run is written (~150 bytes each, plus garbage: about 10-40 MiB). */
export const SPILL_BUDGET_CHUNKS = 64 * 1024;

interface Run {
  /** Position of the next frame to read, and where the run ends. */
  at: number;
  end: number;
  /** The path and body of the frame at `at`, read ahead of its body. */
  head?: { path: string; bodyAt: number; bodyLength: number; next: number };
}

const byPath = (a: FileRecord, b: FileRecord) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export class RecordSpill {
  private held: FileRecord[] = [];
  private heldChunks = 0;
  private file: FileHandle | undefined;
  private size = 0;
  private readonly runs: Run[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly chunkSize: number,
    private readonly budgetChunks = SPILL_BUDGET_CHUNKS,
  ) {}

  /** Runs written so far (0 while everything fits in memory). */
  get spilledRuns(): number {
    return this.runs.length;
  }

  /** Keep one record; resolves once it is safe (a full budget is written out first). */
  add(record: FileRecord): Promise<void> {
    this.held.push(record);
    this.heldChunks += record.chunks.length;
    if (this.heldChunks < this.budgetChunks) return this.writing;
    const batch = this.held;
    this.held = [];
    this.heldChunks = 0;
    this.writing = this.writing.then(() => this.writeRun(batch));
    return this.writing;
  }

  /** Every record, sorted by path. Call once, after the last add. */
  async *sorted(): AsyncGenerator<FileRecord> {
    await this.writing;
    const held = this.held.sort(byPath);
    this.held = [];
    if (this.runs.length === 0) {
      yield* held;
      return;
    }
    for (const r of this.runs) await this.readHead(r);
    let h = 0;
    for (;;) {
      let best: Run | undefined;
      for (const r of this.runs) if (r.head && (!best || r.head.path < best.head!.path)) best = r;
      const fromHeld = h < held.length && (!best || held[h]!.path < best.head!.path);
      if (fromHeld) {
        yield held[h++]!;
        continue;
      }
      if (!best) return;
      const head = best.head!;
      const body = await this.read(head.bodyAt, head.bodyLength);
      best.at = head.next;
      await this.readHead(best);
      const records = decodePart(inflateRawSync(body), this.chunkSize);
      yield records[0]!;
    }
  }

  /** Close and drop the temporary file (idempotent). */
  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
    const f = this.file;
    this.file = undefined;
    this.held = [];
    await f?.close();
  }

  private async writeRun(batch: FileRecord[]): Promise<void> {
    batch.sort(byPath);
    const file = this.file ?? (this.file = await openUnlinked());
    const start = this.size;
    for (const r of batch) {
      const path = Buffer.from(r.path, 'utf8');
      const body = deflateRawSync(encodePart([r]), { level: 1 });
      const head = Buffer.alloc(8);
      head.writeUInt32BE(path.length, 0);
      head.writeUInt32BE(body.length, 4);
      await this.write(file, Buffer.concat([head, path, body]));
    }
    this.runs.push({ at: start, end: this.size });
  }

  private async write(file: FileHandle, data: Buffer): Promise<void> {
    try {
      let done = 0;
      while (done < data.length) done += (await file.write(data, done, data.length - done, this.size + done)).bytesWritten;
      this.size += data.length;
    } catch (e) {
      throw spillError(e);
    }
  }

  private async readHead(r: Run): Promise<void> {
    if (r.at >= r.end) {
      r.head = undefined;
      return;
    }
    const lengths = await this.read(r.at, 8);
    const pathLength = lengths.readUInt32BE(0);
    const bodyLength = lengths.readUInt32BE(4);
    const path = (await this.read(r.at + 8, pathLength)).toString('utf8');
    const bodyAt = r.at + 8 + pathLength;
    r.head = { path, bodyAt, bodyLength, next: bodyAt + bodyLength };
  }

  private async read(position: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.file!.read(buf, done, length - done, position + done);
      if (bytesRead === 0) throw new PgkeepError('INTERNAL', 'the temporary file of the file list ended early');
      done += bytesRead;
    }
    return buf;
  }
}

/** A new temporary file in TMPDIR, already unlinked (also used by ref-spill.ts). */
export async function openUnlinked(prefix = 'pgkeep-file-list-', what?: SpillWhat): Promise<FileHandle> {
  let dir: string | undefined;
  try {
    dir = await mkdtemp(join(tmpdir(), prefix));
    const path = join(dir, 'records');
    const file = await open(path, 'w+', 0o600);
    await rm(dir, { recursive: true, force: true });
    return file;
  } catch (e) {
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw spillError(e, what);
  }
}

/** What a temporary file holds, for its errors: its name and how much room it needs. */
export interface SpillWhat {
  /** e.g. 'temporary file list' */
  name: string;
  /** e.g. 'temporary file list of the snapshot' */
  what: string;
  room: string;
}

const FILE_LIST: SpillWhat = {
  name: 'temporary file list',
  what: 'temporary file list of the snapshot',
  room: 'about 100 bytes per 128 KiB of data',
};

export function spillError(e: unknown, spill: SpillWhat = FILE_LIST): PgkeepError {
  const where = tmpdir();
  const then = `or point TMPDIR at a file system with room for the ${spill.name} (${spill.room})`;
  return (
    diskFullError(e, { what: spill.what, dir: where, then }) ??
    new PgkeepError('INTERNAL', `cannot write the ${spill.name} in ${where}: ${(e as Error).message}`, {
      hint: 'point TMPDIR at a writable directory',
      cause: e,
    })
  );
}

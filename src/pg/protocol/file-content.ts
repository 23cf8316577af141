/**
 * The content of one file in a streamed backup, as a Readable. Bytes wait in our own queue
 * (counted by the shared FlowControl, so the socket pauses when the consumer is slower than the
 * server) and enter the Readable's buffer only when the consumer reads.
 */
import { Readable } from 'node:stream';
import type { FlowControl } from './async-queue.js';

export class FileContent extends Readable {
  private chunks: Buffer[] = [];
  private wanting = false;
  private finished = false;
  private readonly flow: FlowControl;

  constructor(flow: FlowControl, highWaterMark = 256 * 1024) {
    super({ highWaterMark });
    this.flow = flow;
  }

  /** Add bytes (the caller hands over ownership: pass a copy). */
  enqueue(chunk: Buffer): void {
    if (this.destroyed || this.finished) return;
    if (this.wanting && this.chunks.length === 0) {
      this.wanting = this.push(chunk);
      return;
    }
    this.chunks.push(chunk);
    this.flow.add(chunk.length);
  }

  /** All bytes are in. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.chunks.length === 0 && !this.destroyed) this.push(null);
  }

  override _read(): void {
    while (this.chunks.length > 0) {
      const c = this.chunks.shift()!;
      this.flow.sub(c.length);
      if (!this.push(c)) {
        this.wanting = false;
        if (this.chunks.length === 0 && this.finished) this.push(null);
        return;
      }
    }
    if (this.finished) {
      this.push(null);
      return;
    }
    this.wanting = true;
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    let n = 0;
    for (const c of this.chunks) n += c.length;
    this.chunks = [];
    if (n) this.flow.sub(n);
    cb(err);
  }
}

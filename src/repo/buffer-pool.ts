/**
 * Recycles fixed-size buffers (chunks travel main -> worker -> main), so storing any amount of
 * data allocates a bounded set of buffers instead of one per chunk: without it, dead buffers
 * pile up between garbage collections and peak memory grows.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    readonly size: number,
    private readonly keep: number,
  ) {}

  take = (size: number): Buffer => {
    if (size === this.size) {
      const ab = this.free.pop();
      if (ab) return Buffer.from(ab);
    }
    return Buffer.allocUnsafeSlow(size);
  };

  give(buf: Uint8Array | undefined): void {
    if (buf && buf.buffer.byteLength === this.size && this.free.length < this.keep) this.free.push(buf.buffer as ArrayBuffer);
  }
}

import type { FileRecord } from '../../repo/index.js';
import type { StoredFileFacts } from '../../pg/protocol/index.js';

/**
 * The file writes of one copy that run while the next files arrive: at most `max` at once; the
 * first failure is kept and thrown at the next check; what was stored (size, SHA-256) is kept
 * for the check against the server's backup_manifest.
 */
export class InflightWrites {
  readonly stored = new Map<string, StoredFileFacts>();
  filesDone = 0;
  private readonly inflight = new Set<Promise<unknown>>();
  private failed: unknown;

  constructor(private readonly max: number) {}

  track(p: Promise<FileRecord>): void {
    const t = p.then(
      (r) => {
        if (r.type === 'file') this.stored.set(r.path, { size: r.size, ...(r.sha256 ? { sha256hex: r.sha256 } : {}) });
        this.filesDone++;
      },
      (e) => {
        this.failed ??= e;
      },
    );
    this.inflight.add(t);
    void t.finally(() => this.inflight.delete(t));
  }

  throwIfFailed(): void {
    if (this.failed) throw this.failed;
  }

  /** Wait while `max` writes are running. */
  async waitForRoom(): Promise<void> {
    while (this.inflight.size >= this.max) await Promise.race(this.inflight);
  }

  /** Wait for every write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all([...this.inflight]);
    this.throwIfFailed();
  }
}

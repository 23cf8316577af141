/**
 * Reading one data file of a running cluster: sequential reads up to the size it had when opened
 * (a file that grows is fine — WAL replay covers the rest; one that shrinks just ends early), and,
 * for relation files of a cluster with data checksums, every full page verified the way the
 * server's base backup does: new pages and pages changed since the backup started are skipped, a
 * failing page is read once more (it may have been caught half-written), and only a page that
 * fails twice is reported.
 */
import type { FileHandle } from 'node:fs/promises';
import { checkPage, pageChecksum, storedChecksum } from './page-checksum.js';
import type { ChecksumFailure } from './types.js';

export interface PageCheckSettings {
  /** Pages with pd_lsn >= this are not checked. */
  startLsn: bigint;
  blockSize: number;
  /** Blocks per segment file (RELSEG_SIZE, 131072 for 1 GB segments of 8 kB). */
  segmentBlocks: number;
}

export interface ReadFileOptions {
  path: string;
  /** Bytes to read at most (the size when the file was opened). */
  size: number;
  /** Verify pages (relation files only); `segment` is the file's segment number (".N"). */
  pages?: PageCheckSettings & { segment: number };
  readSize?: number;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
}

export interface ReadFileStats {
  bytes: number;
  pagesChecked: number;
  failures: ChecksumFailure[];
  /** The file ended before `size`. */
  shrunk: boolean;
}

/** The file's content as buffers (each a fresh buffer); fills `stats` as it goes. */
export async function* readDataFile(fh: FileHandle, o: ReadFileOptions, stats: ReadFileStats): AsyncGenerator<Buffer> {
  const pages = o.pages;
  const bs = pages?.blockSize ?? 8192;
  const readSize = Math.max(bs, Math.floor((o.readSize ?? 1024 * 1024) / bs) * bs);
  let pos = 0;
  while (pos < o.size) {
    o.signal?.throwIfAborted();
    const want = Math.min(readSize, o.size - pos);
    const buf = Buffer.allocUnsafeSlow(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got === 0) {
      stats.shrunk = true;
      return;
    }
    const data = got < want ? buf.subarray(0, got) : buf;
    if (pages) await verifyPages(fh, data, pos, pages, o.path, stats);
    pos += got;
    stats.bytes += got;
    o.onBytes?.(got);
    yield data;
    if (got < want) {
      stats.shrunk = true;
      return;
    }
  }
}

async function verifyPages(fh: FileHandle, data: Buffer, filePos: number, s: PageCheckSettings & { segment: number },
  path: string, stats: ReadFileStats): Promise<void> {
  const bs = s.blockSize;
  for (let off = 0; off + bs <= data.length; off += bs) {
    const blockInFile = (filePos + off) / bs;
    const block = s.segment * s.segmentBlocks + blockInFile;
    let page = data.subarray(off, off + bs);
    const verdict = checkPage(page, block, s.startLsn);
    if (verdict === 'ok') stats.pagesChecked++;
    if (verdict !== 'bad') continue;
    // read it again: the server may have been writing it while we read
    const again = Buffer.allocUnsafeSlow(bs);
    const { bytesRead } = await fh.read(again, 0, bs, filePos + off);
    if (bytesRead === bs) {
      const second = checkPage(again, block, s.startLsn);
      if (second !== 'bad') {
        again.copy(data, off);
        if (second === 'ok') stats.pagesChecked++;
        continue;
      }
      page = again;
    }
    stats.failures.push({ path, block, blockInFile, expected: pageChecksum(page, block), found: storedChecksum(page) });
  }
}

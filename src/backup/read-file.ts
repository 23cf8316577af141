/**
 * Reading one data file of a running cluster: sequential reads (by the blob workers, into the
 * repository's buffers) up to the size it had when opened (a file that grows is fine — WAL replay covers the
 * rest; one that shrinks just ends early), and, for relation files of a cluster with data
 * checksums, every full page verified the way the server's base backup does: new pages and pages
 * changed since the backup started are skipped, a failing page is read once more (it may have
 * been caught half-written), and only a page that fails twice is reported. The first check runs
 * in the blob workers (page-check-task.ts); the second read here.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ContentReader } from '../repo/index.js';
import { checkPage, pageChecksum, storedChecksum } from './page-checksum.js';
import { PAGE_CHECK_MODULE, type PageCheckParams, type PageCheckReport } from './page-check-task.js';
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
  /** Read up to this offset (the size when the file was opened). */
  size: number;
  /** Start at this offset (default 0): a range of the file. */
  start?: number;
  /** Verify pages (relation files only); `segment` is the file's segment number (".N"). */
  pages?: PageCheckSettings & { segment: number };
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
}

export interface ReadFileStats {
  bytes: number;
  pagesChecked: number;
  /** In the order they were found (sort by block for a stable report). */
  failures: ChecksumFailure[];
  /** The file ended before `size`. */
  shrunk: boolean;
}

/** The file's content for SnapshotWriter.addFile; fills `stats` as it goes. */
export function dataFileReader(fh: FileHandle, o: ReadFileOptions, stats: ReadFileStats): ContentReader {
  let pos = o.start ?? 0;
  let ended = false;
  const reader: ContentReader = {
    async readInto(into: Buffer): Promise<number> {
      if (ended) return 0;
      o.signal?.throwIfAborted();
      const want = Math.min(into.length, o.size - pos);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(into, got, want - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got < want) stats.shrunk = true;
      if (got < into.length) ended = true;
      pos += got;
      stats.bytes += got;
      if (got > 0) o.onBytes?.(got);
      return got;
    },
    // the blob workers read the file themselves (readInto above is the fallback)
    file: {
      fd: fh.fd,
      start: pos,
      end: o.size,
      onRead: (got, wanted) => {
        if (got < wanted) stats.shrunk = true;
        stats.bytes += got;
        if (got > 0) o.onBytes?.(got);
      },
    },
  };
  const pages = o.pages;
  if (pages) {
    const params: PageCheckParams = {
      startLsn: pages.startLsn,
      blockSize: pages.blockSize,
      segmentBlocks: pages.segmentBlocks,
      segment: pages.segment,
    };
    reader.check = {
      module: PAGE_CHECK_MODULE,
      params,
      onReport: (report, data, fileOffset) => recheck(fh, report as PageCheckReport, data, fileOffset, pages, o.path, stats),
    };
  }
  return reader;
}

/** Count the verified pages; read each failed page once more, keep it if it is now right, report it if not. */
async function recheck(
  fh: FileHandle,
  report: PageCheckReport,
  data: Buffer,
  fileOffset: number,
  s: PageCheckSettings & { segment: number },
  path: string,
  stats: ReadFileStats,
): Promise<void> {
  stats.pagesChecked += report.checked;
  const bs = s.blockSize;
  for (const off of report.bad) {
    const blockInFile = (fileOffset + off) / bs;
    const block = s.segment * s.segmentBlocks + blockInFile;
    let page = data.subarray(off, off + bs);
    const again = Buffer.allocUnsafeSlow(bs);
    const { bytesRead } = await fh.read(again, 0, bs, fileOffset + off);
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

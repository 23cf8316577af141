/**
 * Page checksum verification as a content check of the repository's blob workers: each batch of
 * a relation file is checked where it is compressed, off the main thread. Pages that fail are
 * held for the main thread, which reads them once more (the server may have been writing them)
 * before reporting them (read-file.ts).
 */
import { isNewPage, pageChecksum, storedChecksum } from './page-checksum.js';

/** This module's URL, for ContentCheck.module. */
export const PAGE_CHECK_MODULE = new URL(import.meta.url).href;

export interface PageCheckParams {
  /** Pages with pd_lsn >= this are not checked. */
  startLsn: bigint;
  blockSize: number;
  /** Blocks per segment file. */
  segmentBlocks: number;
  /** The file's segment number (".N"). */
  segment: number;
}

export interface PageCheckReport {
  /** Pages whose checksum was verified. */
  checked: number;
  /** Offsets (in the batch) of the pages whose checksum is wrong. */
  bad: number[];
}

/** The ContentCheck function: verify every full page of `data`, which starts at `fileOffset`. */
export function checkBatch(data: Uint8Array, fileOffset: number, p: PageCheckParams): { report: PageCheckReport; hold: boolean } {
  const bs = p.blockSize;
  const startHi = Number(p.startLsn >> 32n);
  const startLo = Number(p.startLsn & 0xffffffffn);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const firstBlock = p.segment * p.segmentBlocks + fileOffset / bs;
  let checked = 0;
  const bad: number[] = [];
  for (let off = 0, i = 0; off + bs <= data.length; off += bs, i++) {
    const page = data.subarray(off, off + bs);
    if (isNewPage(page)) continue;
    // pd_lsn (xlogid, xrecoff) >= start: changed since the backup started, WAL replay rewrites it
    const hi = dv.getUint32(off, true);
    if (hi > startHi || (hi === startHi && dv.getUint32(off + 4, true) >= startLo)) continue;
    if (pageChecksum(page, firstBlock + i) === storedChecksum(page)) checked++;
    else bad.push(off);
  }
  return { report: { checked, bad }, hold: bad.length > 0 };
}

/**
 * Pack files a blob worker holds open while it reads ranges of them itself (restore from a
 * posix repository): one open per pack instead of one per range read, and no bytes through the
 * main thread. Packs are immutable, so a descriptor never sees other bytes than the ones it
 * opened; each is closed once the worker has not read it for IDLE_MS, so a pack `repo gc`
 * deletes later does not keep its disk space.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const MAX_OPEN = 16;
const IDLE_MS = 2000;

const open = new Map<string, number>();
let timer: NodeJS.Timeout | undefined;
let lastUse = 0;

function closeAll(): void {
  for (const fd of open.values()) closeSync(fd);
  open.clear();
}

function sweepLater(): void {
  lastUse = Date.now();
  if (timer) return;
  timer = setInterval(() => {
    if (Date.now() - lastUse < IDLE_MS) return;
    closeAll();
    clearInterval(timer);
    timer = undefined;
  }, IDLE_MS).unref();
}

function fdOf(path: string): number {
  let fd = open.get(path);
  if (fd !== undefined) {
    open.delete(path); // re-insert: the Map's order is the least recently used first
    open.set(path, fd);
    return fd;
  }
  if (open.size >= MAX_OPEN) {
    const [oldest, ofd] = open.entries().next().value as [string, number];
    open.delete(oldest);
    closeSync(ofd);
  }
  fd = openSync(path, 'r');
  open.set(path, fd);
  return fd;
}

/**
 * Read `length` bytes at `offset` of the pack file `path` into `into`. Returns false when the
 * range cannot be read whole (missing or short pack, any read error): the caller then reads it
 * through the storage driver, which names the problem the way every other read does.
 */
export function readPackRange(path: string, offset: number, length: number, into: Buffer): boolean {
  sweepLater();
  try {
    const fd = fdOf(path);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, into, got, length - got, offset + got);
      if (n === 0) return false;
      got += n;
    }
    return true;
  } catch {
    const fd = open.get(path);
    if (fd !== undefined) {
      open.delete(path);
      try {
        closeSync(fd);
      } catch {
        /* already unusable */
      }
    }
    return false;
  }
}

/**
 * Pack files held open while a restore reads ranges of them (posix repository): one open per
 * pack instead of an open, a read and a close per range. A descriptor stays open while a read
 * uses it and is closed once unused for IDLE_MS, so a pack `repo gc` deletes later does not keep
 * its disk space, and it is never closed (its number reused) under a read. Packs are immutable:
 * a descriptor only ever sees the bytes it opened.
 */
import { closeSync, openSync } from 'node:fs';

/** Unused descriptors kept at most (more are opened while tasks use them). */
const MAX_IDLE = 16;
const IDLE_MS = 2000;

interface Entry {
  fd: number;
  users: number;
  lastUse: number;
}

const open = new Map<string, Entry>();
let timer: NodeJS.Timeout | undefined;

/** Close descriptors nobody uses: all of them idle for IDLE_MS, and the oldest beyond MAX_IDLE. */
function sweep(): void {
  const now = Date.now();
  const idle = [...open].filter(([, e]) => e.users === 0).sort((a, b) => a[1].lastUse - b[1].lastUse);
  idle.forEach(([path, e], i) => {
    if (now - e.lastUse >= IDLE_MS || idle.length - i > MAX_IDLE) {
      open.delete(path);
      closeSync(e.fd);
    }
  });
  if (open.size === 0 && timer) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** A descriptor of the pack file `path` for one read (give it back with releasePackFile), or undefined when it cannot be opened. */
export function acquirePackFile(path: string): number | undefined {
  let e = open.get(path);
  if (!e) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return undefined; // the driver's read names what is wrong
    }
    e = { fd, users: 0, lastUse: 0 };
    open.set(path, e);
    timer ??= setInterval(sweep, IDLE_MS).unref();
  }
  e.users++;
  return e.fd;
}

export function releasePackFile(path: string): void {
  const e = open.get(path);
  if (!e) return;
  e.users--;
  e.lastUse = Date.now();
  if (open.size > MAX_IDLE) sweep();
}

/** Descriptors held now (tests). */
export function openPackFiles(): number {
  return open.size;
}

/**
 * FileCloser: files handed over are fsynced and closed in the background; drain() reports the
 * first failed flush, and once one failed every further file is closed and refused. A pipe is a
 * real descriptor that fsync refuses (EINVAL), standing in for a disk that fails its flush.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FileCloser } from './file-closer.js';

const isClosed = (fd: number) => {
  try {
    fstatSync(fd);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EBADF';
  }
};

/** A FIFO, opened read-write so the open does not wait for a writer. */
function fifoFd(dir: string): number {
  const path = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
  return openSync(path, 'r+'); // r+ on a FIFO does not block on Linux
}

test('files handed over are fsynced and closed by drain(), their content intact', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-closer-'));
  try {
    const closer = new FileCloser(true, 2, 3);
    const fds: number[] = [];
    for (let i = 0; i < 10; i++) {
      const fd = openSync(join(dir, `f${i}`), 'w');
      writeSync(fd, `file ${i}`);
      fds.push(fd);
      await closer.close(fd);
    }
    await closer.drain();
    assert.ok(fds.every(isClosed), 'every descriptor is closed');
    for (let i = 0; i < 10; i++) assert.equal(readFileSync(join(dir, `f${i}`), 'utf8'), `file ${i}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed flush: drain() rejects with it, and later files are closed and refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgkeep-closer-'));
  try {
    const closer = new FileCloser(true);
    const bad = fifoFd(dir);
    await closer.close(bad);
    await assert.rejects(closer.drain(), (e: NodeJS.ErrnoException) => e.code === 'EINVAL' && e.syscall === 'fsync');
    assert.ok(isClosed(bad), 'the failed descriptor is closed');
    const later = openSync(join(dir, 'later'), 'w');
    await assert.rejects(closer.close(later), (e: NodeJS.ErrnoException) => e.code === 'EINVAL');
    assert.ok(isClosed(later), 'a file handed over after the failure is closed too');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

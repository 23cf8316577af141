/**
 * How the sh front (bin/pgkeep) waiting for a file being pushed learns of its acknowledgement
 * without polling: the pusher makes `<spool>/ack.fifo` (a named pipe) when it starts and, after
 * each acknowledgement, writes the file's name into it if a front has it open. The front holds
 * the pipe open while it waits and reads lines; a watchdog of its own writes one every second (it
 * checks the pusher is alive then) and gives up after 5 s. Every failure here (no mkfifo, no
 * reader, a full pipe) only means the front is not woken early: it never makes an acknowledgement.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const ACK_FIFO = 'ack.fifo';

/** Make the pipe if it is not there; false when it cannot be (the front then polls). */
export function createAckFifo(spoolDir: string): boolean {
  const path = join(spoolDir, ACK_FIFO);
  try {
    if (lstatSync(path).isFIFO()) return true;
    return false; // something else has the name: leave it alone
  } catch {
    // not there yet
  }
  try {
    execFileSync('mkfifo', ['-m', '600', path], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Tell a waiting front that `file` is acknowledged (call after writing the acknowledgement). */
export function notifyAck(spoolDir: string, file: string): void {
  let fd: number;
  try {
    // Non-blocking: with no front holding the pipe open this fails at once (ENXIO).
    fd = openSync(join(spoolDir, ACK_FIFO), constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch {
    return;
  }
  try {
    writeSync(fd, `${file}\n`);
  } catch {
    // a full pipe (no one reading): nobody waits for this line
  } finally {
    closeSync(fd);
  }
}

/**
 * One compression at a time, in the order the files were given: a push thread holds two files
 * (push-threads.ts), and the second starts only once the first one's object is encoded (the
 * repository's putObject compresses and hashes synchronously when called; what follows is the
 * write and fsync). So the write of one file overlaps the compression of the next, the two never
 * compete for the core, and the oldest file, the one the archiver waits for, is done first.
 */
import type { WalRepo } from '../push.js';

export type InOrder = <T>(run: (repo: WalRepo) => Promise<T>) => Promise<T>;

export function compressInOrder(repo: WalRepo): InOrder {
  let previous: Promise<void> = Promise.resolve();
  return async (run) => {
    let encoded = () => {};
    const mine = new Promise<void>((r) => {
      encoded = r;
    });
    const before = previous;
    previous = mine;
    await before;
    const signalling: WalRepo = {
      location: repo.location,
      codec: repo.codec,
      getObject: (name) => repo.getObject(name),
      putObject: (name, data, opts) => {
        const put = repo.putObject(name, data, opts); // encoded by now: only I/O is left
        encoded();
        return put;
      },
    };
    try {
      return await run(signalling);
    } finally {
      encoded();
    }
  };
}

/**
 * Copy one stream to a main sink and to side sinks, with backpressure from all of them. Side
 * sinks may stop reading at any time (pg_restore -l exits once it has read the table of
 * contents): they are then dropped and the copy goes on to the others. When the copy stops early
 * (either end fails), the side sinks are destroyed.
 */
import type { Readable, Writable } from 'node:stream';

export function fanOut(source: Readable, main: Writable, sides: Writable[]): void {
  const live = new Set<Writable>(sides);
  const waiting = new Set<Writable>();
  const drop = (w: Writable) => {
    live.delete(w);
    if (waiting.delete(w) && waiting.size === 0) source.resume();
  };
  for (const w of sides) {
    w.once('error', () => drop(w));
    w.once('close', () => drop(w));
  }
  const wait = (w: Writable) => {
    waiting.add(w);
    source.pause();
    w.once('drain', () => {
      if (waiting.delete(w) && waiting.size === 0) source.resume();
    });
  };
  source.on('data', (chunk: Buffer) => {
    for (const w of live) {
      if (w.destroyed || w.writableEnded) {
        drop(w);
        continue;
      }
      if (!w.write(chunk)) wait(w);
    }
    if (!main.write(chunk)) wait(main);
  });
  source.once('end', () => {
    for (const w of live) if (!w.destroyed) w.end();
    main.end();
  });
  source.once('error', (e) => {
    for (const w of live) w.destroy();
    main.destroy(e);
  });
  main.once('error', () => source.destroy());
  // However the source stops (ended, failed, or destroyed because the main sink failed), no side
  // sink may be left open: a pg_restore reading it would wait on its stdin forever.
  source.once('close', () => {
    for (const w of live) if (!w.writableEnded && !w.destroyed) w.destroy();
  });
}

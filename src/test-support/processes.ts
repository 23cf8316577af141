/** Test helper: the processes whose command line contains `text` (their pids, as /proc names them). */
import { readdirSync, readFileSync } from 'node:fs';

export function processesNaming(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false; // gone
      }
    });
}

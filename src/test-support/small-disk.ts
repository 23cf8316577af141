/** A small tmpfs standing in for a full disk (root only), unmounted and removed by `release`. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function smallDisks(prefix: string): { mount(name: string, size: string): string; release(): void } {
  const work = mkdtempSync(join(tmpdir(), prefix));
  const mounted: string[] = [];
  return {
    mount(name, size) {
      const dir = join(work, name);
      mkdirSync(dir);
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=1777`, 'tmpfs', dir]);
      mounted.push(dir);
      return dir;
    },
    release() {
      for (const m of mounted) execFileSync('umount', ['-l', m]);
      rmSync(work, { recursive: true, force: true });
    },
  };
}

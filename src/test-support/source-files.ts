/** The production .ts files of src/, for tests that check the source itself (tests and test helpers left out). */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The src/ folder of the checkout (tests run from dist/, beside it). */
export const SRC_DIR = fileURLToPath(new URL('../../src/', import.meta.url));

export function productionFiles(root: string = SRC_DIR): string[] {
  const out: string[] = [];
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'test-support' && name !== 'faults') out.push(...productionFiles(p));
    } else if (name.endsWith('.ts') && !/\.(test|fixtures)\.ts$|^test-/.test(name)) out.push(p);
  }
  return out;
}

/**
 * The last state of every check, kept in a small JSON file so that a restarted agent neither
 * repeats alerts it sent nor misses a recovery that happened while it was down: a check that was
 * CRITICAL before and is OK at the first round after the restart is notified as recovered.
 * Written through a temporary file and a rename, so a kill leaves the old or the new content.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CHECK_STATES, type CheckName, type CheckState } from './types.js';

export type CheckMemory = Record<string, Partial<Record<CheckName, CheckState>>>;

/** The remembered states; empty when there is no file. A damaged file is an error (the caller logs it). */
export function readCheckMemory(file: string | undefined): CheckMemory {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const doc = JSON.parse(text) as unknown;
  const out: CheckMemory = {};
  for (const [cluster, checks] of Object.entries(doc && typeof doc === 'object' ? doc : {})) {
    out[cluster] = Object.fromEntries(
      Object.entries(checks && typeof checks === 'object' ? checks : {}).filter(([, s]) =>
        (CHECK_STATES as readonly unknown[]).includes(s),
      ),
    );
  }
  return out;
}

export function writeCheckMemory(file: string, memory: CheckMemory): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(memory, null, 2)}\n`);
  renameSync(tmp, file);
}

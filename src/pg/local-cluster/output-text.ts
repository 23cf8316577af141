/** Reading what the server and its programs wrote: the server log (pg_controldata's output: ../control.ts). */

import { readFileSync, statSync } from 'node:fs';

/** The server log lines that say why it did not start: the FATAL one, and what it refers to. */
export function startFailureReason(log: string): string | undefined {
  const lines = log.split('\n');
  const i = lines.findIndex((l) => /\b(FATAL|PANIC):/.test(l));
  if (i < 0) return undefined;
  const strip = (l: string) => l.replace(/^.*?\b(LOG|FATAL|PANIC|ERROR):\s+/, '$1: ');
  // "configuration file ... contains errors" follows the line naming the bad setting.
  if (/contains errors/.test(lines[i]!) && i > 0) return `${strip(lines[i - 1]!)}; ${strip(lines[i]!)}`;
  return strip(lines[i]!);
}

export function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function readFrom(path: string, offset: number): string {
  try {
    return readFileSync(path).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

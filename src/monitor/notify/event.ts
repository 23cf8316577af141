/** A check changed state: what every notification channel sends. */
import type { CheckName, CheckState } from '../types.js';

export interface StateChange {
  cluster: string;
  check: CheckName;
  /** The state before (null: the first round of the monitor). */
  from: CheckState | null;
  to: CheckState;
  reason: string;
  fix: string | null;
  /** When it was seen, ISO 8601. */
  at: string;
  host: string;
}

/** One line: "[CRITICAL] main archive: archive stalled: ..." (a recovery reads "[OK] ... recovered (was CRITICAL)"). */
export function summaryLine(e: StateChange): string {
  const was = e.from && e.from !== e.to ? ` (was ${e.from})` : '';
  return `[${e.to}] pgkeep ${e.host}/${e.cluster} ${e.check}${e.to === 'OK' && e.from ? ' recovered' : ''}${was}: ${e.reason}`;
}

/** The text of an e-mail or chat message: the summary, then the fix. */
export function messageText(e: StateChange): string {
  return `${summaryLine(e)}${e.fix ? `\nfix: ${e.fix}` : ''}\nat ${e.at}`;
}

/** Where a URL points, without its path and query (a Slack webhook's path is its secret). */
export const redact = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
};

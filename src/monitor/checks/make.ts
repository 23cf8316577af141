/** Small helpers shared by the health checks. */
import type { CheckName, CheckState, HealthCheck } from '../types.js';

export const result = (check: CheckName, state: CheckState, reason: string, fix: string | null = null): HealthCheck => ({
  check,
  state,
  reason,
  fix,
});

/** The server could not be asked: the check cannot tell. */
export const serverUnknown = (check: CheckName, error: string): HealthCheck =>
  result(
    check,
    'UNKNOWN',
    `the server could not be reached: ${error}`,
    'check that PostgreSQL runs and that [cluster.NAME] connection reaches it (pgkeep doctor shows what is wrong)',
  );

export { humanBytes as human } from '../../words.js';

/** 45s, 12m, 3.5h, 2.0d */
export function age(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86_400).toFixed(1)}d`;
}

const RANK: Record<CheckState, number> = { OK: 0, WARN: 1, UNKNOWN: 2, CRITICAL: 3 };

/** The worst of some states (CRITICAL over UNKNOWN over WARN over OK). */
export function worst(states: CheckState[]): CheckState {
  return states.reduce<CheckState>((a, b) => (RANK[b] > RANK[a] ? b : a), 'OK');
}

/**
 * `restore --start` with archive recovery: wait until the server has reached the target and
 * done what recovery_target_action says — promoted (accepts writes), paused (replay paused at
 * the target, read-only) or shut down — and report how recovery ended, in the server's own
 * words from its log. A server that stops on its own (FATAL) is reported with its reason.
 */
import { processAlive } from '../../pg/process-alive.js';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PgkeepError } from '../../errors.js';
import type { LocalCluster } from '../../pg/local-cluster.js';
import type { RecoveryEnd, TargetAction } from './types.js';

export interface RecoveryLogFacts {
  stoppedAt?: string;
  lastTransactionTime?: string;
  newTimeline?: number;
  redoDoneAt?: string;
  shutdownAtTarget: boolean;
  /** FATAL/PANIC messages. */
  fatal: string[];
}

/** What the server log says about the end of recovery. Pure. */
export function parseRecoveryLog(text: string): RecoveryLogFacts {
  const facts: RecoveryLogFacts = { shutdownAtTarget: false, fatal: [] };
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /LOG:\s+(recovery stopping .*)$/.exec(line))) facts.stoppedAt = m[1];
    else if ((m = /last completed transaction was at log time (.*)$/.exec(line))) facts.lastTransactionTime = m[1]!.trim();
    else if ((m = /selected new timeline ID: (\d+)/.exec(line))) facts.newTimeline = Number(m[1]);
    else if ((m = /redo done at ([0-9A-F]+\/[0-9A-F]+)/.exec(line))) facts.redoDoneAt = m[1];
    else if (/shutdown at recovery target/.test(line)) facts.shutdownAtTarget = true;
    else if ((m = /(?:FATAL|PANIC):\s+(.*)$/.exec(line))) facts.fatal.push(m[1]!.trim());
  }
  return facts;
}

function readLog(cluster: LocalCluster, from: number): string {
  try {
    const text = readFileSync(cluster.logFile);
    return text.subarray(Math.min(from, text.length)).toString('utf8');
  } catch {
    return '';
  }
}

export function logSize(cluster: LocalCluster): number {
  try {
    return statSync(cluster.logFile).size;
  } catch {
    return 0;
  }
}

function serverAlive(cluster: LocalCluster): boolean {
  const pidFile = join(cluster.dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  return processAlive(Number(readFileSync(pidFile, 'utf8').split('\n')[0]));
}

interface State {
  inRecovery: boolean;
  pause: string;
  replayLsn: string | null;
}

async function state(cluster: LocalCluster): Promise<State | undefined> {
  const pause =
    cluster.major >= 14 ? 'pg_get_wal_replay_pause_state()' : "CASE WHEN pg_is_wal_replay_paused() THEN 'paused' ELSE 'not paused' END";
  try {
    const [r] = await cluster.query<{ r: boolean; p: string | null; l: string | null }>(
      `SELECT pg_is_in_recovery() AS r, CASE WHEN pg_is_in_recovery() THEN ${pause} END AS p, pg_last_wal_replay_lsn()::text AS l`,
    );
    return { inRecovery: r!.r, pause: r!.p ?? '', replayLsn: r!.l };
  } catch {
    return undefined; // starting up, shutting down, or not accepting connections yet
  }
}

/**
 * Wait for the end of recovery. `action` undefined: no target (replay everything, then
 * promote). `logFrom`: size of the server log before the start.
 */
export async function waitForRecoveryEnd(
  cluster: LocalCluster,
  action: TargetAction | undefined,
  opts: { logFrom?: number; signal?: AbortSignal; pollMs?: number; startupMs?: number } = {},
): Promise<RecoveryEnd> {
  const t0 = Date.now();
  const from = opts.logFrom ?? 0;
  const wanted = action ?? 'promote';
  let seenAlive = false;
  for (;;) {
    opts.signal?.throwIfAborted();
    const alive = serverAlive(cluster);
    seenAlive ||= alive;
    if (!alive) {
      const facts = parseRecoveryLog(readLog(cluster, from));
      if (wanted === 'shutdown' && facts.shutdownAtTarget) {
        return end('shut down', facts, t0);
      }
      // Started without waiting (shutdown action): the server may not have written postmaster.pid yet.
      if (!seenAlive && facts.fatal.length === 0 && Date.now() - t0 < (opts.startupMs ?? 60_000)) {
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
        continue;
      }
      const reason = facts.fatal[facts.fatal.length - 1];
      throw new PgkeepError('SERVER_NOT_READY', `the restored server stopped during recovery${reason ? `: ${reason}` : ''}`, {
        hint: `server log ${cluster.logFile}:\n${readLog(cluster, from).split('\n').slice(-15).join('\n')}`,
        details: { logFile: cluster.logFile, fatal: facts.fatal },
      });
    }
    const s = await state(cluster);
    if (s) {
      if (wanted === 'promote' && !s.inRecovery) {
        // The promotion is logged just before the server opens for writes; read it once more if needed.
        const facts = parseRecoveryLog(readLog(cluster, from));
        return { ...end('promoted', facts, t0), ...(s.replayLsn ? { replayLsn: s.replayLsn } : {}) };
      }
      if (wanted === 'pause' && s.inRecovery && s.pause === 'paused') {
        return { ...end('paused', parseRecoveryLog(readLog(cluster, from)), t0), ...(s.replayLsn ? { replayLsn: s.replayLsn } : {}) };
      }
      if (wanted === 'pause' && !s.inRecovery) {
        throw new PgkeepError(
          'SERVER_NOT_READY',
          'the restored server was asked to pause at the target but finished recovery instead (is hot_standby off?)',
          {
            hint: `server log ${cluster.logFile}`,
          },
        );
      }
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}

function end(state: RecoveryEnd['state'], facts: RecoveryLogFacts, t0: number): RecoveryEnd {
  return {
    state,
    ...(facts.stoppedAt ? { stoppedAt: facts.stoppedAt } : {}),
    ...(facts.lastTransactionTime ? { lastTransactionTime: facts.lastTransactionTime } : {}),
    ...(facts.newTimeline ? { timeline: facts.newTimeline } : {}),
    ...(facts.redoDoneAt ? { redoDoneAt: facts.redoDoneAt } : {}),
    seconds: (Date.now() - t0) / 1000,
  };
}

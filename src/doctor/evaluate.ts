/** Turning gathered facts into the ordered list of checks and a verdict per method. Pure. */
import { archiveCommandCheck, archiveModeCheck, archiverCheck } from './checks/archive.js';
import { archiveAccessCheck, archiveRoundtripCheck } from './checks/archive-reach.js';
import { archiveTimeoutCheck, slotsHealthCheck } from './checks/wal-safety.js';
import { clusterStateCheck } from './checks/cold.js';
import { backupFunctionsCheck, pgdataCheck, readAllSettingsCheck } from './checks/local.js';
import { readAccessCheck, toolChecks } from './checks/logical.js';
import { checksumsCheck, MIN_MAJOR, reachableCheck, versionCheck, walLevelCheck } from './checks/server.js';
import { hbaCheck, replicationRoleCheck, slotsCheck, walSendersCheck } from './checks/stream.js';
import { SECTION_ORDER, type DoctorCheck, type DoctorFacts, type MethodSummary } from './types.js';

/** Every check, in the order they are shown. */
export function evaluateChecks(facts: DoctorFacts): DoctorCheck[] {
  // a server older than pgkeep supports: its version FAILs every method, nothing else is judged
  if (facts.server && facts.server.major < MIN_MAJOR)
    return [reachableCheck(facts), versionCheck(facts)].filter((c): c is DoctorCheck => c !== null);
  const all: (DoctorCheck | null)[] = [
    reachableCheck(facts),
    versionCheck(facts),
    walLevelCheck(facts),
    checksumsCheck(facts),
    walSendersCheck(facts),
    slotsCheck(facts),
    hbaCheck(facts),
    replicationRoleCheck(facts),
    backupFunctionsCheck(facts),
    readAllSettingsCheck(facts),
    pgdataCheck(facts),
    clusterStateCheck(facts),
    archiveModeCheck(facts),
    archiveCommandCheck(facts),
    archiveAccessCheck(facts),
    archiverCheck(facts),
    archiveTimeoutCheck(facts),
    slotsHealthCheck(facts),
    archiveRoundtripCheck(facts),
    ...toolChecks(facts),
    readAccessCheck(facts),
  ];
  const checks = all.filter((c): c is DoctorCheck => c !== null);
  return checks
    .map((c, i) => ({ c, i }))
    .sort((a, b) => SECTION_ORDER.indexOf(a.c.method) - SECTION_ORDER.indexOf(b.c.method) || a.i - b.i)
    .map((x) => x.c);
}

export function summarize(facts: DoctorFacts, checks: DoctorCheck[]): MethodSummary[] {
  return facts.methods.map((method) => {
    const mine = checks.filter((c) => c.usedBy.includes(method));
    const fail = mine.filter((c) => c.status === 'FAIL').length;
    const warn = mine.filter((c) => c.status === 'WARN').length;
    return { method, verdict: fail ? 'not ready' : warn ? 'warnings' : 'ready', fail, warn };
  });
}

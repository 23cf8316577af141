/** Scenario 1: the accidental DROP TABLE, recovered to one second before it (the demo). */
import { ARCHIVING_CONF, BACKUP_ROLE, REPLICATION_HBA } from './common-prereqs.js';
import { runDemo } from './demo.js';
import type { Scenario, ScenarioResult, ScenarioRunOptions, StepRecord } from './types.js';

/** One fact of a step's result (undefined when the step or the fact is absent). */
export function stepFact(steps: StepRecord[], step: string, key: string): unknown {
  const r = steps.find((s) => s.name === step)?.result;
  return r !== null && typeof r === 'object' && key in r ? Reflect.get(r, key) : undefined;
}

async function run(opts: ScenarioRunOptions): Promise<ScenarioResult> {
  const demo = await runDemo(opts);
  const recover = demo.steps.find((s) => s.name === 'recover');
  const target = stepFact(demo.steps, 'accident', 'targetIso');
  const lostMs = Date.parse(String(stepFact(demo.steps, 'accident', 'dropTime'))) - Date.parse(String(target));
  const kept: NonNullable<ScenarioResult['kept']> = [];
  if (demo.kept) kept.push({ what: 'the original cluster', connect: demo.kept.psql, stop: demo.kept.stop, remove: demo.kept.remove });
  if (demo.keptRecovered) {
    const k = demo.keptRecovered;
    kept.push({ what: 'the recovered cluster', connect: k.psql, stop: k.stop, remove: k.remove });
  }
  if (demo.keptWorkDir) kept.push({ what: 'the repository', remove: `rm -rf ${demo.keptWorkDir}` });
  return {
    scenario: 'drop-table',
    steps: demo.steps,
    rpo: {
      seconds: lostMs / 1000,
      meaning: 'the span between the recovery target and the DROP: writes committed in it would not come back (here none were)',
    },
    rto: { seconds: (recover?.ms ?? 0) / 1000, meaning: 'restore of the base backup + replay of the archived WAL up to the target' },
    checks: [{ what: 'every order written before the drop is back', ok: stepFact(demo.steps, 'compare', 'everyOrderBack') === true }],
    ...(kept.length ? { kept } : {}),
  };
}

export const DROP_TABLE: Scenario = {
  number: 1,
  name: 'drop-table',
  title: 'The accidental DROP TABLE: point-in-time recovery (the demo)',
  situation:
    'Someone ran DROP TABLE orders CASCADE on production. Writes went on after it. You want the database as it was one ' +
    'second before the drop, next to production, to take the table back.',
  fits: {
    method: 'a physical base backup + continuous WAL archiving, restored to a point in time (pgkeep restore --target-time)',
    why:
      'The archived WAL holds every transaction up to the last archived segment, so recovery can stop at any moment: ' +
      'the loss is bounded by archive_timeout, not by the backup schedule.',
  },
  notThese: [
    { method: "last night's pg_dump", why: 'loses every order since the dump; a dump is one moment, it cannot be rolled forward.' },
    { method: 'a base backup alone', why: 'restores to the end of the backup only: the orders after it are lost.' },
    { method: 'a streaming standby', why: 'replays the DROP within a second; it protects against losing the host, not against a mistake.' },
  ],
  prerequisites: {
    postgresqlConf: ARCHIVING_CONF,
    pgHba: REPLICATION_HBA,
    roles: [BACKUP_ROLE],
    schedule: 'pgkeep backup nightly (cron: 0 2 * * *, or the agent); archiving runs all the time',
  },
  copied: [
    { what: 'every file of the data directory', from: 'the running server, over the replication protocol (BASE_BACKUP)' },
    { what: 'WAL segments (16 MB each)', from: "the server's pg_wal, handed over by archive_command as each one fills" },
    { what: "at recovery: the backup's files, then the WAL after it", from: 'the repository (restore_command = pgkeep wal get)' },
  ],
  commands: [
    'pgkeep backup',
    "pgkeep restore --target-time '<one second before the drop>' --to /srv/pg-recovered --archive-mode off --start",
  ],
  needsClientTools: [],
  run,
};

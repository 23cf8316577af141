/**
 * docs/scenarios.md and `pgkeep scenario explain`, written from the scenarios' own data (pure: no
 * I/O), so the document and the runs never disagree. `npm run docs:scenarios` writes the file; a
 * unit test fails when the committed one differs.
 */
import { SCENARIOS } from './catalog.js';
import type { ScenarioInfo } from './types.js';

const bullet = (lines: string[]) => lines.map((l) => `- ${l}`);
const code = (lines: string[]) => (lines.length ? ['```', ...lines, '```'] : ['(none)']);

/** One scenario as Markdown (a level-2 section). */
export function explainScenario(s: ScenarioInfo): string {
  const p = s.prerequisites;
  return [
    `## ${s.number}. ${s.title}`,
    '',
    `\`pgkeep scenario run ${s.name}\``,
    '',
    ...(s.repositoryOnS3
      ? [
          `With \`pgkeep --repo s3://BUCKET/PREFIX scenario run ${s.name}\` the run's repository is on S3, under a new prefix ` +
            'of its own there (removed at the end); endpoint, region and path style come from the usual settings, the ' +
            "credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, which the server's archive_command and " +
            'restore_command inherit. Without an s3:// repository it is a directory.',
          '',
        ]
      : []),
    `**Situation.** ${s.situation}`,
    '',
    `**What fits:** ${s.fits.method}. ${s.fits.why}`,
    '',
    '**Why not the others:**',
    '',
    ...bullet(s.notThese.map((a) => `${a.method}: ${a.why}`)),
    '',
    '**What is copied, and from where:**',
    '',
    ...bullet(s.copied.map((c) => `${c.what}: from ${c.from}`)),
    '',
    '**Prerequisites.** postgresql.conf:',
    '',
    ...code(p.postgresqlConf),
    '',
    'pg_hba.conf:',
    '',
    ...code(p.pgHba),
    '',
    'Roles:',
    '',
    ...code(p.roles),
    '',
    `Schedule: ${p.schedule}`,
    '',
    '**Commands:**',
    '',
    ...code(s.commands),
    ...(s.needsClientTools.length
      ? ['', `Needs the client programs ${s.needsClientTools.join(', ')} besides the server (skipped without them).`]
      : []),
    '',
  ].join('\n');
}

/** The whole of docs/scenarios.md. */
export function renderScenariosDoc(scenarios: ScenarioInfo[] = SCENARIOS): string {
  return [
    '# Life scenarios',
    '',
    '<!-- Generated from src/scenarios/ by `npm run docs:scenarios`: edit the scenarios, not this file. -->',
    '',
    'Each scenario is a situation a DBA meets, the kind of backup that fits it and why the others do not, what',
    'must be set up beforehand, and what is copied from where. Each one also runs for real on throwaway',
    'clusters, with small data: `pgkeep scenario run NAME` tells every step, its timing, and the measured',
    'RPO (what could be lost) and RTO (how long getting the data back took). `pgkeep scenario list` lists them,',
    '`pgkeep scenario explain NAME` prints one section of this page.',
    '',
    '| # | name | situation |',
    '|---|------|-----------|',
    ...scenarios.map((s) => `| ${s.number} | \`${s.name}\` | ${s.title} |`),
    '',
    ...scenarios.map(explainScenario),
  ].join('\n');
}

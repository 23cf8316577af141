/**
 * `pgkeep expire`: apply the [retention] policy — delete the manifests of physical backups it no
 * longer keeps and the WAL no kept backup needs; say what `pgkeep repo gc` will then free.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes, table } from '../output.js';
import { resolvePolicy } from '../../retention/policy-flags.js';
import type { ExpireReport } from '../../retention/expire.js';
import { openRepo } from './wal.js';
import { failForDamagedManifests } from '../damaged-manifests.js';

export function register(program: Command, runner: Runner): void {
  program
    .command('expire')
    .description('remove physical backups outside the retention policy, and the WAL no kept backup needs')
    .option('--dry-run', 'only say what would be removed')
    .option(
      '--keep <id...>',
      'pin these backups (each a snapshot id, or the start of one; forever, like "pgkeep pin") before applying the policy',
    )
    .option('--keep-last <n>', 'keep the N newest backups (default [retention] keep_last; 0 turns the rule off)')
    .option('--keep-days <n>', 'recovery window in days (default [retention] keep_days; 0 turns the rule off)')
    .addHelpText(
      'after',
      `
Policy ([retention] in pgkeep.toml, or the flags): keep_last N keeps the N newest backups;
keep_days D keeps every backup that ended in the last D days plus the newest one before (so
any moment of the window can be recovered). With both, a backup is kept when EITHER rule keeps
it, so the stricter rule does not shorten the other. A flag replaces the file's rule; 0 turns
a rule off (--keep-days 0: keep_last alone decides). The newest backup and pinned backups are
never removed; with no rule left, nothing is. WAL positioned
before the oldest kept backup's start is removed; .history files stay. Logical dumps are not
touched. Only manifests and WAL objects go: "pgkeep repo gc" then frees the data.

Examples:
  pgkeep expire --dry-run
  pgkeep expire --keep-last 7
  pgkeep expire --keep-last 7 --keep-days 0       ignore keep_days from the file this time
  pgkeep expire --keep 20240101T020000Z-1a2b --json`,
    )
    .action(
      runner.action<{ dryRun?: boolean; keep?: string[]; keepLast?: string; keepDays?: string }>(async (ctx, opts) => {
        const policy = resolvePolicy(opts, ctx.config.retention);
        const { expire } = await import('../../retention/expire.js');
        const repo = await openRepo(ctx);
        try {
          const report = await expire(repo, {
            cluster: ctx.config.clusterName,
            policy,
            dryRun: opts.dryRun,
            keep: opts.keep,
            signal: ctx.signal,
            onStep: (m) => ctx.log.debug(m),
          });
          ctx.out.result(report, renderExpire);
          return failForDamagedManifests(
            ctx,
            report.damagedManifests,
            'expire applied the policy to the other backups but removed no WAL, since a damaged backup may need any of it',
          );
        } finally {
          await repo.closeAll();
        }
      }),
    );
}

function renderExpire(r: ExpireReport): string {
  const out: string[] = [];
  const would = r.dryRun ? 'would be ' : '';
  const pol = [
    r.policy.keepLast !== undefined ? `keep_last = ${r.policy.keepLast}` : '',
    r.policy.keepDays !== undefined ? `keep_days = ${r.policy.keepDays}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  out.push(
    r.policyConfigured
      ? `retention policy for cluster "${r.cluster}": ${pol}`
      : `no retention policy configured for cluster "${r.cluster}": every backup is kept (set [retention] keep_last / keep_days)`,
  );
  if (r.backups.length) {
    out.push(
      table(
        ['backup', 'ended', 'decision', 'why'],
        [...r.backups]
          .reverse()
          .map((b) => [b.id, b.stopTime, b.keep ? 'keep' : r.dryRun ? 'expire (dry run)' : 'expired', b.reasons.join(', ')]),
      ),
    );
  } else out.push('no physical backups');
  out.push(`${r.expired.length} backup(s) ${would}removed${r.pinned.length ? `; pinned: ${r.pinned.join(', ')}` : ''}`);
  if (r.wal.length) {
    for (const w of r.wal) {
      out.push(
        `WAL of system ${w.systemIdentifier}: ${w.files} file(s), ${formatBytes(w.storedBytes)} ${would}removed (${w.first} .. ${w.last})` +
          (w.keepFrom ? `; kept from ${w.keepFrom} on` : '; no kept backup needs any of it'),
      );
    }
  } else out.push('no WAL to remove');
  if (r.logicalDumps) out.push(`${r.logicalDumps} logical dump(s) are not subject to this policy and were left alone`);
  for (const w of r.warnings) out.push(`warning: ${w}`);
  for (const d of r.damagedManifests) out.push(`DAMAGED ${d.id}: ${d.message} (left alone; no WAL removed while it is here)`);
  out.push(`pgkeep repo gc: ${r.gc.exact ? '' : 'about '}${formatBytes(r.gc.bytes)} to free — ${r.gc.note}`);
  return out.join('\n');
}

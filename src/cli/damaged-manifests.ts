/**
 * The end of a command that went on past damaged snapshot manifests (list, expire, wal check):
 * its result was printed; with --json the exit code says DATA_INTEGRITY, otherwise the error
 * names the damaged snapshots and what to do.
 */
import { ERROR_CODES, PgkeepError } from '../errors.js';
import type { CommandContext } from './context.js';

export function failForDamagedManifests(ctx: CommandContext, damaged: { id: string }[], consequence: string): number | undefined {
  if (damaged.length === 0) return undefined;
  if (ctx.out.json) return ERROR_CODES.DATA_INTEGRITY;
  throw new PgkeepError(
    'DATA_INTEGRITY',
    `${damaged.length} snapshot manifest(s) of cluster ${ctx.config.clusterName} are damaged: ${damaged.map((d) => d.id).join(', ')}`,
    {
      hint: `${consequence}; run "pgkeep repo check" for the details, those snapshots cannot be restored: put their manifest back from a copy of the repository if there is one, and take a new backup`,
    },
  );
}

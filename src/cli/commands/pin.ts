/** `pgkeep pin` / `pgkeep unpin`: keep a backup whatever the retention policy says. */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { table } from '../output.js';
import { openRepo } from './wal.js';

export function register(program: Command, runner: Runner): void {
  program
    .command('pin')
    .description('keep a backup forever, whatever the retention policy says; without an id, list the pins')
    .argument('[id]', 'snapshot id (or the start of one), or "latest"')
    .option('--note <text>', 'why it is kept (shown in the list)')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep pin 20240101T020000Z-1a2b --note "before the 2024 migration"
  pgkeep pin`,
    )
    .action(
      runner.action<{ note?: string }>(async (ctx, opts, args) => {
        const pins = await import('../../retention/pins.js');
        const repo = await openRepo(ctx);
        try {
          if (args[0]) {
            const pin = await pins.pinSnapshot(repo, ctx.config.clusterName, args[0], opts.note);
            ctx.out.result(pin, (p) => `pinned ${p.id}: "pgkeep expire" keeps it until "pgkeep unpin ${p.id}"`);
          } else {
            const list = await pins.listPins(repo, ctx.config.clusterName);
            ctx.out.result(list, (l) =>
              l.length
                ? table(
                    ['backup', 'pinned at', 'note'],
                    l.map((p) => [p.id, p.pinnedAt, p.note]),
                  )
                : `no pinned backups in cluster "${ctx.config.clusterName}"`,
            );
          }
        } finally {
          await repo.closeAll();
        }
      }),
    );

  program
    .command('unpin')
    .description('let the retention policy decide about a pinned backup again')
    .argument('<id>', 'snapshot id of a pin (or the start of one), or "latest"')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep unpin 20240101T020000Z-1a2b`,
    )
    .action(
      runner.action(async (ctx, _opts, args) => {
        const pins = await import('../../retention/pins.js');
        const repo = await openRepo(ctx);
        try {
          const id = await pins.unpinSnapshot(repo, ctx.config.clusterName, args[0]!);
          ctx.out.result({ id, pinned: false }, (r) => `unpinned ${r.id}`);
        } finally {
          await repo.closeAll();
        }
      }),
    );
}

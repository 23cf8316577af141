/** The command line (after node) of a background pgkeep started by this one: this script, with this run's settings. */
import type { CommandContext } from './context.js';

export function selfArgv(ctx: CommandContext, ...command: string[]): string[] {
  const c = ctx.config;
  return [
    process.argv[1]!,
    ...(c.file ? ['--config', c.file] : []),
    '--cluster',
    c.clusterName,
    ...(c.repo.path ? ['--repo', c.repo.path] : []),
    ...(c.passphrase.file ? ['--passphrase-file', c.passphrase.file] : []),
    '--log-level',
    c.logLevel,
    ...command,
  ];
}

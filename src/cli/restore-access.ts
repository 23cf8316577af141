/** Text for a started restored copy: who may connect (socket, TCP only when asked), and pg_hba.conf. */
import type { RepositoryAccess, StartedInfo } from '../restore/index.js';
import type { CommandContext } from './context.js';

/** How a restored server's restore_command reaches this repository: as this command was given it. */
export function repositoryAccess(ctx: CommandContext): RepositoryAccess {
  return {
    repo: ctx.config.repo.path!,
    cluster: ctx.config.clusterName,
    passphraseFile: ctx.config.passphrase.file,
    passphraseFromEnv: ctx.config.passphrase.fromEnv,
    configFile: ctx.config.file,
  };
}

/** Who may connect to the started copy, and how: the socket, TCP (only when asked), pg_hba.conf. */
export function renderAccess(s: StartedInfo): string[] {
  const lines = [
    s.listen
      ? `  listening on TCP ${s.listen}, port ${s.port} (password authentication: the roles keep the passwords they had in production), and on the unix socket in ${s.socketDir}`
      : `  listening on no TCP address: only the unix socket in ${s.socketDir} (mode 0700: the server's OS user and root); use --listen ADDR for TCP`,
  ];
  lines.push(`  connect: psql "${s.connection} user=<a superuser of the source>"`);
  if (s.tcpConnection) lines.push(`           psql "${s.tcpConnection} user=<role>"   (asks for the role's password)`);
  const h = s.hba;
  if (h.action === 'written') lines.push(`  ${h.file}: written by pgkeep (the backup had none):`, ...h.lines.map((l) => `    ${l}`));
  else if (h.action === 'hardened')
    lines.push(
      `  ${h.file}: the backup's, with its host lines that said trust changed to scram-sha-256:`,
      ...h.lines.map((l) => `    ${l}`),
    );
  else lines.push(`  ${h.file}: the backup's own, unchanged`);
  return lines;
}

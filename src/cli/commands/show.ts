/** `pgkeep show <id|latest>`: one snapshot in detail, optionally with its files. */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { formatBytes, table } from '../output.js';
import { openRepository } from '../../repo/index.js';
import { passphraseGetter } from '../passphrase-prompt.js';
import { showBackup, type BackupDetails } from '../../backup/index.js';
import { readPhysicalMeta, type PhysicalBackupMeta } from '../../holdings/index.js';

export function renderShow(d: BackupDetails): string {
  const s = d.summary;
  const lines = [
    `snapshot ${s.id} of cluster ${d.cluster}: ${s.kind} (${s.method})`,
    `  time:      ${s.startTime} .. ${s.stopTime}`,
    `  files:     ${d.stats.files}, ${formatBytes(d.stats.logicalBytes)}`,
    `  stored:    ${formatBytes(d.stats.storedBytes)} new; ${formatBytes(d.stats.reusedBytes)} reused (${d.stats.reusedFiles} files whole)` +
      (d.previous ? ` from ${d.previous}` : ''),
  ];
  if (s.kind === 'physical') {
    const m = readPhysicalMeta({ id: s.id, cluster: d.cluster, meta: d.meta });
    lines.push(
      `  label:     ${m.label}`,
      `  server:    PostgreSQL ${m.serverVersion}, system ${m.systemIdentifier}, data checksums ${m.dataChecksums ? 'on' : 'off'}`,
      `  WAL:       ${m.startLsn} .. ${m.stopLsn}, timeline ${m.timeline}${m.walStart ? ` (${m.walStart} .. ${m.walEnd})` : ''}` +
        `${m.standalone ? ', stored with the backup' : m.method === 'cold' ? '' : ', from the WAL archive'}`,
    );
    for (const t of m.tablespaces ?? []) lines.push(`  tablespace ${t.oid}: ${t.location}`);
    if (m.serverManifest) lines.push("  the server's backup_manifest is stored with the backup");
    lines.push(...renderExternalConfig(m));
    if (m.backupLabel)
      lines.push(
        '',
        'backup_label:',
        ...m.backupLabel
          .trimEnd()
          .split('\n')
          .map((l) => `  ${l}`),
      );
  }
  if (d.files) {
    lines.push(
      '',
      table(
        ['path', 'type', 'mode', 'size', 'mtime', 'owner'],
        d.files.map((f) => [
          f.type === 'symlink' ? `${f.path} -> ${f.linkTarget}` : f.path,
          f.type,
          f.mode,
          f.type === 'file' ? f.size : '',
          f.mtime,
          f.owner ? `${f.owner}:${f.group ?? ''}` : '',
        ]),
      ),
    );
  }
  return lines.join('\n');
}

/** Configuration files kept outside the data directory (Debian: /etc/postgresql/...), stored in the meta. */
function renderExternalConfig(m: PhysicalBackupMeta): string[] {
  const c = m.externalConfig;
  if (!c) return [];
  return [
    '  configuration outside the data directory (restored beside it, see restore --config-to):',
    ...c.files.map(
      (f) =>
        `    ${f.role.padEnd(11)} ${f.path}${f.text !== undefined ? ` (${Buffer.byteLength(f.text)} bytes)` : `: NOT STORED (${f.error})`}`,
    ),
    ...c.includeDirs.map((d) => `    include_dir ${d}`),
  ];
}

export function register(program: Command, runner: Runner): void {
  program
    .command('show')
    .description('show one snapshot: times, LSNs, WAL range, server, sizes; --files lists its files')
    .argument(
      '<id>',
      'snapshot id (or the start of one); "latest" (the newest snapshot of any kind, as the last row of "pgkeep list"), "latest-physical" or "latest-logical"',
    )
    .option('--files', 'list every file with its mode, size, mtime and owner')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep show latest
  pgkeep show 20250101T020000Z-1a2b --files
  pgkeep --json show latest`,
    )
    .action(
      runner.action<{ files?: boolean }>(async (ctx, opts, args) => {
        const repo = await openRepository(ctx.config.repo, { getPassphrase: passphraseGetter(ctx.config.passphrase) });
        let details: BackupDetails;
        try {
          details = await showBackup(repo, ctx.config.clusterName, args[0] ?? 'latest', { files: opts.files });
        } finally {
          await repo.closeAll();
        }
        ctx.out.result(details, renderShow);
      }),
    );
}

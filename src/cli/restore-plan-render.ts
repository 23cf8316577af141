/** Text of `pgkeep restore --plan`: what a restore with these options would do, nothing written. */
import type { RestoreDryRun } from '../restore/index.js';
import { renderConfiguration, renderPitr, renderWal } from './commands/restore.js';

export function renderRestorePlan(r: RestoreDryRun): string {
  const b = r.backup;
  const lines = [
    `plan (nothing written): restore snapshot ${r.snapshotId} (${r.method}${r.standalone && r.method !== 'cold' ? ', standalone' : ''}, PostgreSQL ${r.serverVersion}) of cluster ${r.cluster} into ${r.dataDir}`,
    `  backup: timeline ${b.timeline}, LSN ${b.startLsn} .. ${b.stopLsn}${b.walStart ? `, WAL ${b.walStart} .. ${b.walEnd}` : ''}, ended ${b.stopTime}`,
    `  target: ${!r.target.exists ? 'does not exist (created)' : !r.target.nonEmpty ? 'empty' : `an existing copy${r.delta ? ', restored over by --delta' : ''}`}` +
      (r.target.interrupted ? ` (an interrupted restore of ${r.target.interrupted} is completed)` : ''),
  ];
  for (const t of r.tablespaces) lines.push(`  tablespace ${t.oid}: ${t.to}${t.to !== t.from ? ` (was ${t.from})` : ''}`);
  lines.push(
    `  recovery: ${r.recovery.mode}${r.recovery.settings.restore_command ? ` (restore_command = ${r.recovery.settings.restore_command})` : ''}`,
  );
  lines.push(...renderWal(r).map((l) => `  ${l}`));
  if (r.pitr) lines.push(...renderPitr(r).map((l) => `  ${l}`));
  lines.push(...renderConfiguration(r).map((l) => `  ${l}`));
  const files = r.writes.filter((w) => w.type === 'file');
  if (!r.target.nonEmpty) {
    lines.push(`would write all ${r.writes.length} entries of the snapshot (${files.length} files) into the empty target`);
  } else {
    lines.push(
      `would write ${r.writes.length} entries (${files.length} files), leave ${r.unchanged} as they are, remove ${r.removes.length}:`,
    );
    for (const w of r.writes)
      lines.push(
        `  ${w.action.padEnd(7)} ${w.path}${w.type !== 'file' ? ` (${w.type})` : w.action === 'update' ? ` (${w.chunks} chunk${w.chunks === 1 ? '' : 's'})` : ''}`,
      );
    for (const p of r.removes) lines.push(`  remove  ${p}`);
  }
  for (const f of r.unarchivedWal?.files ?? []) {
    lines.push(
      `  keep    pg_wal/${f.name} (${f.archive === 'missing' ? 'not in the archive' : 'differs from the archived copy'}): ${f.keptInPgWal ? 'left in pg_wal, ' : ''}copied to ${r.unarchivedWal!.savedTo}`,
    );
  }
  for (const p of r.pgkeepWrites) lines.push(`  pgkeep writes ${p}`);
  lines.push(`then start it with: ${r.startCommand}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/**
 * `pgkeep repo`: create and look after the repository — init, info, check, gc, passphrase
 * change, and the locks (list, unlock).
 */
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import { formatBytes, table } from '../output.js';
import { PgkeepError, exitCodeOf } from '../../errors.js';
import {
  garbageCollect,
  initRepository,
  openRepository,
  parseChunkSize,
  parseCodec,
  repositoryInfo,
  type GcReport,
  type RepoInfo,
} from '../../repo/index.js';
import { checkRepositoryAndWal, type RepositoryCheckReport } from '../../holdings/index.js';
import { passphraseGetter, readPassphrase } from '../passphrase-prompt.js';
import { breakLock, describeHolder, listLocks, type LockStatus } from '../../repo/locks.js';
import type { TempFilesSummary } from '../../repo/temp-files.js';
import { repositoryOwnerOf, withRepositoryStorage } from '../../repo/open.js';
import { lookupOsUser } from '../../pg/server-user.js';

type Repo = Awaited<ReturnType<typeof openRepository>>;

/** --owner USER: the user's uid and primary group. */
function ownerFlag(name: string): { uid: number; gid: number } {
  const user = lookupOsUser(name);
  if (!user)
    throw new PgkeepError('USAGE', `--owner: there is no OS user "${name}"`, { hint: 'name an existing user, e.g. --owner postgres' });
  return { uid: user.uid, gid: user.gid };
}

async function withRepo<T>(ctx: CommandContext, fn: (repo: Repo) => Promise<T>): Promise<T> {
  const repo = await openRepository(ctx.config.repo, { getPassphrase: passphraseGetter(ctx.config.passphrase) });
  try {
    return await fn(repo);
  } finally {
    await repo.closeAll();
  }
}

export function register(program: Command, runner: Runner): void {
  const repo = program
    .command('repo')
    .description('create and maintain the backup repository (a directory or s3://bucket/prefix)')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep --repo /var/backups/pgkeep repo init --encrypt
  pgkeep repo info
  pgkeep repo check --read-data
  pgkeep repo gc --dry-run`,
    );

  repo
    .command('init')
    .description('create a new, empty repository; refuses a location that already holds anything')
    .option('--encrypt', 'encrypt everything with AES-256-GCM under a key protected by a passphrase')
    .option('--compression <codec>', 'default codec: none, gzip[:1-9], lz4, zstd[:1-19] (default [repo] compression or zstd:3)')
    .option('--chunk-size <size>', 'chunk size, a power of two from 4k to 16m (default [repo] chunk_size or 128k)')
    .option('--owner <user>', 'as root: the OS user (and its group) the repository directory and all its files belong to')
    .addHelpText(
      'after',
      `
The passphrase comes from PGKEEP_PASSPHRASE, PGKEEP_PASSPHRASE_FILE / --passphrase-file, or is
asked twice on the terminal. Keep it safe: without it the repository cannot be read.

Ownership (a directory): a repository has one owner, the owner of its pgkeep.json, and every
file in it is readable by that user only (0600). Make it the server's OS user (postgres), since
archive_command runs as that user. Root may use any repository: what root writes is given to
the owner. Another user is refused with the owner's name. Without --owner the repository
belongs to the user running "repo init" (as root: to the directory's owner if that is not root).

Examples:
  pgkeep --repo /var/backups/pgkeep repo init
  PGKEEP_PASSPHRASE_FILE=/etc/pgkeep/pass pgkeep --repo s3://backups/pg repo init --encrypt --compression zstd:6
  sudo pgkeep --repo /var/backups/pgkeep repo init --owner postgres`,
    )
    .action(
      runner.action<{ encrypt?: boolean; compression?: string; chunkSize?: string; owner?: string }>(async (ctx, opts) => {
        const owner = opts.owner === undefined ? undefined : ownerFlag(opts.owner);
        const compression = opts.compression ?? ctx.config.repo.compression ?? 'zstd:3';
        parseCodec(compression, opts.compression ? '--compression' : 'compression');
        const chunkSpec = opts.chunkSize ?? ctx.config.repo.chunkSize ?? '128k';
        const chunkSize = parseChunkSize(chunkSpec, opts.chunkSize ? '--chunk-size' : 'chunk size');
        const passphrase = opts.encrypt
          ? await readPassphrase(ctx.config.passphrase, { prompt: 'New repository passphrase: ', confirm: true })
          : undefined;
        const r = await initRepository({ ...ctx.config.repo, ...(owner ? { owner } : {}) }, { compression, chunkSize, passphrase });
        try {
          const owner = repositoryOwnerOf(r.location);
          const result = {
            location: r.location,
            id: r.config.id,
            version: r.config.version,
            compression: r.config.compression,
            chunkSize: r.config.chunkSize,
            encrypted: r.encrypted,
            ...(owner ? { owner: owner.name } : {}),
          };
          ctx.out.result(result, (d) =>
            [
              `initialized pgkeep repository ${d.location}`,
              `  format version ${d.version}, compression ${d.compression}, chunk size ${formatBytes(d.chunkSize)}, ` +
                `${d.encrypted ? 'encrypted (AES-256-GCM)' : 'not encrypted'}`,
              ...(d.owner
                ? [
                    `  owner ${d.owner}: only this user (and root) can use it${
                      owner?.uid === 0
                        ? '; archive_command runs as the server\'s OS user: use "repo init --owner postgres", or chown -R postgres: the directory'
                        : ''
                    }`,
                  ]
                : []),
            ].join('\n'),
          );
        } finally {
          await r.closeAll();
        }
      }),
    );

  repo
    .command('info')
    .description('what the repository is and holds: format, encryption, codec, snapshots, logical and stored size')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep repo info
  pgkeep --json repo info`,
    )
    .action(
      runner.action(async (ctx) => {
        const info = await withRepo(ctx, async (r) => ({ ...(await repositoryInfo(r)), locks: await listLocks(r.driver) }));
        ctx.out.result(info, renderInfo);
      }),
    );

  repo
    .command('check')
    .description('verify the repository: manifests, locators and pack indexes; with --read-data every blob too')
    .option(
      '--read-data',
      'read every blob and every archived WAL file: authenticate, decompress, compare its SHA-256, check WAL page headers and history files (reads everything)',
    )
    .addHelpText(
      'after',
      `
Without --read-data only the structure is checked (manifests, locators, pack indexes) and WAL
files are counted, not read. Exits with code 7 (DATA_INTEGRITY) when anything is damaged, naming each damaged object and the
snapshots it affects.

Examples:
  pgkeep repo check
  pgkeep repo check --read-data --json`,
    )
    .action(
      runner.action<{ readData?: boolean }>(async (ctx, opts) => {
        const report = await withRepo(ctx, (r) =>
          checkRepositoryAndWal(r, {
            readData: opts.readData,
            signal: ctx.signal,
            onProgress: (done, total, what) => {
              if (ctx.interactive) process.stderr.write(`\rchecking ${what} ${done}/${total}${done === total ? '\n' : ''}`);
            },
          }),
        );
        ctx.out.result(report, (d) => renderCheck(d, Boolean(opts.readData)));
        if (!report.ok) {
          if (ctx.out.json) return exitCodeOf('DATA_INTEGRITY');
          throw new PgkeepError('DATA_INTEGRITY', `the repository has ${report.damaged.length} damaged object(s)`, {
            hint: 'snapshots listed above cannot be restored completely; take a new backup, and restore damaged packs from a copy if you have one',
          });
        }
      }),
    );

  repo
    .command('gc')
    .description('delete packs no snapshot uses and repack mostly-unused ones (takes the exclusive lock)')
    .option('--dry-run', 'only say what would be deleted or repacked and how many bytes it frees')
    .option('--repack-below <percent>', 'repack packs with less than this share of live data (default 50; 0 = never)')
    .addHelpText(
      'after',
      `
Packs newer than the oldest running backup, dump or WAL push (shared lock) are left alone.
Temporary files (.pgkeep-tmp-*) of killed writers are removed once nothing has written to them
for an hour (wal push takes no lock, so age protects a running one) and they are older than
any shared lock still listed.

Examples:
  pgkeep repo gc --dry-run
  pgkeep repo gc`,
    )
    .action(
      runner.action<{ dryRun?: boolean; repackBelow?: string }>(async (ctx, opts) => {
        let repackBelow: number | undefined;
        if (opts.repackBelow !== undefined) {
          const n = Number(opts.repackBelow);
          if (!Number.isFinite(n) || n < 0 || n > 100) {
            throw new PgkeepError('USAGE', `--repack-below must be a percentage from 0 to 100, got "${opts.repackBelow}"`);
          }
          repackBelow = n / 100;
        }
        const report = await withRepo(ctx, (r) =>
          garbageCollect(r, {
            dryRun: opts.dryRun,
            repackBelow,
            signal: ctx.signal,
            onStep: (m) => ctx.log.debug(m),
          }),
        );
        ctx.out.result(report, renderGc);
      }),
    );

  const pass = repo.command('passphrase').description('manage the passphrase of an encrypted repository');
  pass
    .command('change')
    .description('protect the master key with a new passphrase (re-wraps the key; no data is rewritten)')
    .option('--new-passphrase-file <file>', 'read the new passphrase from this file (else PGKEEP_NEW_PASSPHRASE or a prompt)')
    .addHelpText(
      'after',
      `
The current passphrase comes from the usual sources (PGKEEP_PASSPHRASE, --passphrase-file...).

Examples:
  pgkeep repo passphrase change
  PGKEEP_PASSPHRASE_FILE=old.txt pgkeep repo passphrase change --new-passphrase-file new.txt`,
    )
    .action(
      runner.action<{ newPassphraseFile?: string }>(async (ctx, opts) => {
        await withRepo(ctx, async (r) => {
          if (!r.encrypted) {
            throw new PgkeepError('UNSUPPORTED', `repository ${r.location} is not encrypted; it has no passphrase`, {
              hint: 'encryption is chosen when the repository is created (pgkeep repo init --encrypt)',
            });
          }
          const next = await readPassphrase(
            { fromEnv: false, file: opts.newPassphraseFile },
            {
              envName: 'PGKEEP_NEW_PASSPHRASE',
              prompt: 'New passphrase: ',
              confirm: true,
            },
          );
          await r.changePassphrase(next);
          ctx.out.result({ location: r.location, changed: true }, (d) => `passphrase of ${d.location} changed`);
        });
      }),
    );

  repo
    .command('locks')
    .description('list the locks held on the repository (backups, dumps, WAL pushes, gc), stale ones marked')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep repo locks
  pgkeep --json repo locks`,
    )
    .action(
      runner.action(async (ctx) => {
        const locks = await withRepositoryStorage(ctx.config.repo, (d) => listLocks(d));
        ctx.out.result(locks, renderLocks);
      }),
    );

  repo
    .command('unlock <lock-id>')
    .description('remove a stale lock left by a process that died (see "pgkeep repo locks")')
    .option('--force', 'also remove a lock that looks alive (only when you know its holder is gone)')
    .addHelpText(
      'after',
      `
Examples:
  pgkeep repo locks
  pgkeep repo unlock 3f9c0a7d51e2b864`,
    )
    .action(
      runner.action<{ force?: boolean }>(async (ctx, opts, args) => {
        const id = args[0]!;
        const removed = await withRepositoryStorage(ctx.config.repo, (d) => breakLock(d, id, { force: opts.force }));
        ctx.out.result({ removed }, (d) => `lock ${d.removed.id} (${describeHolder(d.removed)}) removed`);
      }),
    );
}

function renderInfo(i: RepoInfo & { locks: LockStatus[] }): string {
  const lines = [
    `repository   ${i.location}`,
    `format       ${i.format} version ${i.version} (id ${i.id}, created ${i.created})`,
    `encryption   ${i.encryption}`,
    `compression  ${i.compression}, chunk size ${formatBytes(i.chunkSize)}, pack size ${formatBytes(i.packSize)}`,
    `snapshots    ${i.snapshots}${i.clusters.length ? ` (${i.clusters.map((c) => `${c.name}: ${c.snapshots}`).join(', ')})` : ''}`,
    `logical size ${formatBytes(i.logicalBytes)} (sum over snapshots)`,
    `stored size  ${formatBytes(i.storedBytes)} (${i.packs} packs ${formatBytes(i.packBytes)}, ${i.objects} other objects ${formatBytes(i.objectBytes)})`,
    `ratio        ${i.ratio.toFixed(2)}`,
    `temp files   ${renderTemp(i.tempFiles)}`,
    `locks        ${i.locks.length ? '' : 'none'}`,
  ];
  return (
    lines.join('\n') +
    (i.locks.length
      ? '\n' +
        renderLocks(i.locks)
          .split('\n')
          .map((l) => '  ' + l)
          .join('\n')
      : '')
  );
}

function renderCheck(r: RepositoryCheckReport, readData: boolean): string {
  const head =
    `${r.ok ? 'ok' : 'DAMAGED'}: ${r.snapshots} snapshot(s), ${r.packs} pack(s), ${r.blobs} referenced blob(s)` +
    (readData
      ? `, ${r.blobsRead} blob(s) and ${r.walFilesRead} of ${r.walFiles} WAL file(s) read and verified (${formatBytes(r.bytesRead)})` +
        (r.deltasRebuilt ? `, ${r.deltasRebuilt} delta chunk(s) rebuilt and verified` : '')
      : `, ${r.walFiles} WAL file(s) (structure only; --read-data verifies the data and the WAL)`);
  const temp = r.tempFiles.count ? `\ntemporary files: ${renderTemp(r.tempFiles)}` : '';
  if (r.ok)
    return head + (r.unreferencedPacks ? `\n${r.unreferencedPacks} unreferenced pack(s): "pgkeep repo gc" removes them` : '') + temp;
  const rows = r.damaged.map((d) => [
    d.object + (d.offset !== undefined ? ` @${d.offset}` : ''),
    d.problem,
    d.snapshots.join(', ') || '(none)',
    (d.files ?? []).join(', '),
  ]);
  return `${head}${temp}\n\n${table(['object', 'problem', 'snapshots affected', 'files'], rows)}`;
}

function renderTemp(t: TempFilesSummary): string {
  if (!t.count) return 'none';
  const age = t.oldestAgeSeconds >= 7200 ? `${Math.round(t.oldestAgeSeconds / 3600)} h` : `${Math.round(t.oldestAgeSeconds / 60)} min`;
  return (
    `${t.count} left by interrupted writers (${formatBytes(t.bytes)}, oldest ${age} old); ` +
    `${t.removable ? `"pgkeep repo gc" removes ${t.removable} of them` : 'none old enough for "pgkeep repo gc" to remove (1 h untouched)'}`
  );
}

function renderGc(r: GcReport): string {
  const verb = r.dryRun ? 'would' : 'did';
  const lines = [
    `${r.dryRun ? 'dry run: ' : ''}${r.packs} pack(s), ${r.snapshots} snapshot(s)`,
    `delete   ${r.deleted.length} unreferenced pack(s) (${formatBytes(r.deleted.reduce((n, p) => n + p.size, 0))})`,
    `repack   ${r.repacked.length} mostly-unused pack(s) (${formatBytes(r.repacked.reduce((n, p) => n + p.size, 0))}, ` +
      `${formatBytes(r.bytesWritten)} live copied, ${r.manifestsRewritten} manifest(s) rewritten)`,
  ];
  if (r.protectedPacks) lines.push(`kept     ${r.protectedPacks} pack(s) newer than a running backup's lock`);
  if (r.tempFiles.removed || r.tempFiles.kept) {
    lines.push(
      `temp     ${verb === 'would' ? 'would remove' : 'removed'} ${r.tempFiles.removed} temporary file(s) of killed writers (${formatBytes(r.tempFiles.bytes)})` +
        (r.tempFiles.kept ? `, kept ${r.tempFiles.kept} written to within the last hour (a writer may still run)` : ''),
    );
  }
  lines.push(`${verb === 'would' ? 'would free' : 'freed'}    ${formatBytes(r.bytesFreed)}`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function renderLocks(locks: LockStatus[]): string {
  if (!locks.length) return 'no locks';
  return table(
    ['id', 'kind', 'purpose', 'cluster', 'holder', 'started', 'heartbeat', 'state'],
    locks.map((l) => [
      l.id,
      l.kind,
      l.purpose,
      l.cluster,
      `${l.owner}@${l.host} pid ${l.pid}`,
      l.startedAt,
      l.heartbeatAt,
      l.stale ? `STALE${l.staleReason ? ` (${l.staleReason})` : ''}` : 'alive',
    ]),
  );
}

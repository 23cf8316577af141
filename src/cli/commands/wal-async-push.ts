/**
 * Asynchronous `wal push` ([archive] async = true): the foreground path that `wal push` takes
 * (wal/async-push/foreground.ts), and the hidden `wal push-worker` that runs the background
 * pusher. The pusher runs detached with its output in the spool's pusher.log.
 */
import { statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import { walGroup, openRepo } from './wal.js';
import { selfArgv } from '../self-argv.js';
import type { PusherLaunch } from '../../wal/async-push/foreground.js';
import { PUSHER_COMMAND } from '../../wal/async-push/lock.js';

/** Longest wait of a `wal push` for the pusher, and how long without a heartbeat means "stuck". */
const WAIT_MS = 60_000;
const STALL_MS = 10_000;
/** The pusher stops after this long with nothing to do, or with failures only. */
const IDLE_MS = 10_000;
const FAILING_MS = 60_000;
const LOG_LIMIT = 1 << 20;

/** `wal push PATH` through the spool; the caller checked that async is on and a repository is set. */
export async function asyncWalPush(ctx: CommandContext, path: string): Promise<void> {
  const { pushAsync } = await import('../../wal/async-push/foreground.js');
  const c = ctx.config;
  const r = await pushAsync({
    path,
    pgdata: c.cluster.pgdata,
    cluster: c.clusterName,
    repoPath: c.repo.path!,
    spoolPath: c.archive.spoolPath,
    waitMs: WAIT_MS,
    stallMs: STALL_MS,
    pusherArgv: (l) => pusherArgv(ctx, l),
    pushNow: async () => {
      const { pushWalFile } = await import('../../wal/push.js');
      const repo = await openRepo(ctx);
      try {
        await pushWalFile(repo, { cluster: c.clusterName, path, pgdata: c.cluster.pgdata, codec: c.archive.compression });
      } finally {
        await repo.closeAll();
      }
    },
  });
  (await import('../fast-push.js')).frontPushRecord(process.argv);
  if (r.warning) ctx.log.warn(r.warning);
  ctx.log.debug(`${r.file}: ${r.via}${r.reason ? ` (${r.reason})` : ''}`);
  if (ctx.out.json) ctx.out.result(r, () => '');
}

function pusherArgv(ctx: CommandContext, l: PusherLaunch): string[] {
  const pgdata = ctx.config.cluster.pgdata;
  return selfArgv(ctx, ...(pgdata ? ['--pgdata', pgdata] : []), 'wal', PUSHER_COMMAND, '--pg-wal', l.pgWalDir, '--spool-dir', l.spoolDir);
}

export function register(program: Command, runner: Runner): void {
  walGroup(program)
    .command(PUSHER_COMMAND, { hidden: true })
    .description('(internal) the background pusher of asynchronous "wal push"')
    .requiredOption('--pg-wal <dir>', 'the pg_wal directory whose archive_status is read')
    .requiredOption('--spool-dir <dir>', 'the push spool')
    .action(
      runner.action<{ pgWal: string; spoolDir: string }>(async (ctx, opts) => {
        const { runPusher } = await import('../../wal/async-push/pusher.js');
        trimLog(join(opts.spoolDir, 'pusher.log'));
        const repo = await openRepo(ctx);
        const stamp = () => new Date().toISOString();
        const c = ctx.config;
        // More than one job: the pushes run in threads, so compression and checks use every core.
        const { signal: _signal, ...location } = c.repo;
        const threads =
          c.archive.pushJobs > 1
            ? (await import('../../wal/async-push/push-threads.js')).startPushThreads(c.archive.pushJobs, {
                repo: location,
                passphrase: c.passphrase,
                cluster: c.clusterName,
                pgdata: c.cluster.pgdata,
                codec: c.archive.compression,
              })
            : undefined;
        try {
          const r = await runPusher(repo, {
            cluster: ctx.config.clusterName,
            pgWalDir: opts.pgWal,
            pgdata: ctx.config.cluster.pgdata,
            codec: c.archive.compression,
            spoolDir: opts.spoolDir,
            jobs: ctx.config.archive.pushJobs,
            queueAlertSegments: ctx.config.archive.queueAlertSegments,
            idleMs: IDLE_MS,
            failingMs: FAILING_MS,
            signal: ctx.signal,
            ...(threads ? { push: (p: string) => threads.push(p) } : {}),
            onEvent: (e) => {
              if (e.kind === 'pushed') ctx.log.debug(`${stamp()} ${e.file} ${e.status}`);
              else if (e.kind === 'failed') ctx.log.warn(`${stamp()} ${e.file} not archived: ${e.message}`);
              else if (e.kind === 'alert')
                ctx.log.warn(`${stamp()} ALERT: ${e.queueSegments} WAL files wait to be archived (limit ${e.limit}); none is dropped`);
              else if (e.kind === 'alert-cleared') ctx.log.info(`${stamp()} alert cleared: ${e.queueSegments} WAL files wait`);
              else ctx.log.warn(`${stamp()} the repository at this path is another one now: acknowledgements cleared`);
            },
          });
          if (!r.busy) ctx.log.debug(`${stamp()} pusher exits (${r.exit}) after storing ${r.pushed} file(s)`);
        } finally {
          await threads?.close();
          await repo.closeAll();
        }
      }),
    );
}

/** Keep pusher.log bounded: start it over when it passed 1 MiB. */
function trimLog(path: string): void {
  try {
    if (statSync(path).size > LOG_LIMIT) truncateSync(path, 0);
  } catch {
    // no log yet
  }
}

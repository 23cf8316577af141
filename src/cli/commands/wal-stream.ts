/**
 * `pgkeep wal stream`: the streaming WAL receiver, in the `pgkeep wal` group. Runs until SIGTERM
 * or SIGINT; prints what it stores and, every few seconds, its position and lag — as text on
 * stderr, or with --json as one JSON object per line on stdout.
 */
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../context.js';
import { formatBytes, jsonReplacer } from '../output.js';
import { PgkeepError } from '../../errors.js';
import { formatLsn } from '../../pg/lsn.js';
import type { StreamEvent, StreamWalResult } from '../../wal/stream/index.js';
import { openRepo, walGroup } from './wal.js';

interface StreamOpts {
  slot?: string;
  createSlot?: boolean;
  synchronous?: boolean;
  partialInterval?: string;
  partialSize?: string;
  statusInterval?: string;
  fromCurrent?: boolean;
  applicationName?: string;
}

export function register(program: Command, runner: Runner): void {
  walGroup(program)
    .command('stream')
    .description('receive WAL over the replication protocol as the server writes it, and store it in the repository')
    .option('--slot <name>', 'stream from this physical replication slot (the server keeps WAL until it is stored)')
    .option('--create-slot', 'create the slot (with reserved WAL) if it does not exist')
    .option('--synchronous', 'report WAL as flushed once its .partial upload is stored, uploading as soon as the stream is idle')
    .option('--partial-interval <seconds>', 'upload the segment being received as .partial this often', '10')
    .option('--partial-size <size>', '... or after this much new WAL (e.g. 4MB)', '4MB')
    .option('--status-interval <seconds>', 'print position and lag this often', '5')
    .option('--from-current', "start at the slot or the server's current segment even if the archive ends earlier (accepts a gap)")
    .option('--application-name <name>', 'application_name when the connection string sets none (default pgkeep)')
    .addHelpText(
      'after',
      `
Where it starts: after the last complete segment of this cluster in the repository; at the slot's
restart_lsn when the repository has nothing newer; else at the start of the server's current
segment. Complete segments are stored under the names archive_command uses (both may run: an
identical segment stored by the other is fine, a different one is an error). The segment being
received is kept as <segment>.partial and replaced at every upload. Timeline switches are
followed (the .history file is stored; the old timeline's last segment stays as .partial). When
the server goes away the receiver reconnects, waiting 1 s, 2 s, 4 s ... up to 30 s. SIGTERM or
SIGINT uploads the .partial, sends a final status and exits 0.

Flush position: the server is told WAL is flushed only once it is stored in the repository —
complete segments, and with --synchronous also the .partial uploads. A slot releases WAL only up
to that point. With --synchronous the receiver can be a synchronous standby: set
  synchronous_standby_names = 'pgkeep'      (its application_name)
and a commit returns once its WAL is in the repository (synchronous_commit = on).

Without --slot the server may recycle WAL before it is received; a warning says so. On PostgreSQL
13 and 14 (no READ_REPLICATION_SLOT) the slot is read from pg_replication_slots over a normal
connection with the same settings: the role must be allowed to connect to the configured database
(or to "postgres" when the configured one does not exist, e.g. no dbname for a replication role).

Examples:
  pgkeep wal stream --slot pgkeep --create-slot
  pgkeep wal stream --slot pgkeep --synchronous --application-name pgkeep
  pgkeep --json wal stream --slot pgkeep --status-interval 1`,
    )
    .action(
      runner.action<StreamOpts>(async (ctx, opts) => {
        const partialIntervalMs = seconds(opts.partialInterval ?? '10', '--partial-interval') * 1000;
        const partialBytes = size(opts.partialSize ?? '4MB', '--partial-size');
        const progressIntervalMs = seconds(opts.statusInterval ?? '5', '--status-interval') * 1000;
        if (opts.createSlot && !opts.slot) {
          throw new PgkeepError('USAGE', '--create-slot needs --slot NAME', { hint: 'for example: --slot pgkeep --create-slot' });
        }
        const { streamWal } = await import('../../wal/stream/index.js');
        // The receiver stops by itself on the signal and stores its .partial: its storage requests
        // must not be cut off by the interrupt (each is bounded by s3_timeout anyway).
        const repo = await openRepo({ ...ctx, config: { ...ctx.config, repo: { ...ctx.config.repo, signal: undefined } } });
        try {
          const result = await streamWal({
            repo,
            cluster: ctx.config.clusterName,
            ...(ctx.config.archive.compression ? { codec: ctx.config.archive.compression } : {}),
            connection: ctx.config.cluster,
            slot: opts.slot,
            createSlot: opts.createSlot,
            synchronous: opts.synchronous,
            fromCurrent: opts.fromCurrent,
            applicationName: opts.applicationName,
            partial: { intervalMs: partialIntervalMs, bytes: partialBytes },
            progressIntervalMs,
            signal: ctx.signal,
            onEvent: (e) => render(ctx, e),
          });
          if (ctx.out.json) writeJsonLine({ type: 'result', ...lsnsAsText(result) });
          else ctx.out.line(summary(result));
        } finally {
          await repo.closeAll();
        }
      }),
    );
}

function render(ctx: CommandContext, e: StreamEvent): void {
  if (ctx.out.json) {
    const { error, ...rest } = e as StreamEvent & { error?: PgkeepError };
    writeJsonLine({ ...lsnsAsText(rest), ...(error ? { error: error.toJSON().error } : {}) });
    return;
  }
  const log = ctx.log;
  switch (e.type) {
    case 'connected':
      log.info(
        `connected: system ${e.systemId}, timeline ${e.timeline}, server at ${formatLsn(e.serverLsn)}, ` +
          `${formatBytes(e.segmentSize)} segments`,
      );
      break;
    case 'slot-created':
      log.info(`created replication slot "${e.slot}"${e.restartLsn ? ` (keeps WAL from ${formatLsn(e.restartLsn)})` : ''}`);
      break;
    case 'no-slot-warning':
      log.warn(e.message);
      break;
    case 'gap-warning':
      log.warn(e.message);
      break;
    case 'start':
      log.info(
        `streaming from ${formatLsn(e.lsn)} on timeline ${e.timeline}${e.slot ? ` through slot "${e.slot}"` : ''} (${START_REASON[e.source]})`,
      );
      break;
    case 'segment':
      log.info(e.status === 'stored' ? `stored ${e.file}` : `${e.file} was already archived with identical content`);
      break;
    case 'partial':
      log.debug(`stored ${e.file} up to ${formatLsn(e.upTo)}`);
      break;
    case 'history':
      log.info(e.status === 'stored' ? `stored ${e.file}` : `${e.file} already archived`);
      break;
    case 'timeline-switch':
      log.info(`timeline ${e.from} ended at ${formatLsn(e.switchpoint)}; following timeline ${e.to}`);
      break;
    case 'progress':
      log.info(
        `received ${formatLsn(e.receivedLsn)}  flushed ${formatLsn(e.flushedLsn)}  ` +
          `server ${e.serverLsn === null ? '?' : formatLsn(e.serverLsn)}  lag ${e.lagBytes === null ? '?' : formatBytes(e.lagBytes)}`,
      );
      break;
    case 'disconnected':
      log.warn(`${e.error.message}; reconnecting in ${Math.round(e.retryInMs / 100) / 10} s (attempt ${e.attempt})`);
      break;
    case 'stopped':
      log.info(`stopped: flushed up to ${formatLsn(e.flushedLsn)}${e.partial ? `; ${e.partial} stored` : ''}`);
      break;
  }
}

const START_REASON: Record<Extract<StreamEvent, { type: 'start' }>['source'], string> = {
  repository: 'after the last segment in the repository',
  slot: "at the slot's restart_lsn",
  server: "at the start of the server's current segment",
  resume: 'continuing',
  reconnect: 'resuming after reconnect',
  'timeline-switch': 'new timeline',
};

function summary(r: StreamWalResult): string {
  return (
    `streamed system ${r.systemId} up to ${formatLsn(r.receivedLsn)} (timeline ${r.timeline}), flushed ${formatLsn(r.flushedLsn)}: ` +
    `${r.segmentsStored} segments stored, ${r.segmentsAlreadyArchived} already archived, ${r.partialUploads} .partial uploads, ` +
    `${r.timelineSwitches} timeline switches, ${r.reconnects} reconnects`
  );
}

function writeJsonLine(obj: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(obj, jsonReplacer) + '\n');
}

/** LSN fields (bigint, named *Lsn or `from`/`to`/`upTo`/`switchpoint`) as PostgreSQL's X/X text. */
function lsnsAsText(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    out[k] =
      typeof v === 'bigint' && (/Lsn$/.test(k) || k === 'lsn' || k === 'upTo' || k === 'switchpoint' || k === 'from' || k === 'to')
        ? formatLsn(v)
        : v;
  }
  return out;
}

function seconds(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) {
    throw new PgkeepError('USAGE', `${flag} must be a positive number of seconds, not "${text}"`, { hint: `for example ${flag} 10` });
  }
  return n;
}

function size(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|k|MB|M|GB|G)?\s*$/i.exec(text);
  const unit: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };
  const bytes = m ? Math.round(Number(m[1]) * unit[(m[2] ?? 'b').toLowerCase()]!) : NaN;
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new PgkeepError('USAGE', `${flag} must be a size such as 4MB or 512kB, not "${text}"`, { hint: `for example ${flag} 4MB` });
  }
  return bytes;
}

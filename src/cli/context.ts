/**
 * What every command handler receives: the resolved configuration, the output (text or --json),
 * a logger on stderr, and an AbortSignal that fires on SIGINT/SIGTERM.
 */
import type { Command } from 'commander';
import { loadConfig, type GlobalFlags, type PgkeepConfig } from '../config/index.js';
import { createLogger, createOutput, type Logger, type Output } from './output.js';
import { refuseEmptyValues } from './empty-values.js';

export interface CommandContext {
  config: PgkeepConfig;
  out: Output;
  log: Logger;
  signal: AbortSignal;
  /** True when stderr is a terminal (progress bars are drawn only then, never with --json). */
  interactive: boolean;
}

/** A handler returns its exit code (0 when it returns nothing) or throws a PgkeepError. */
export type Handler<O = Record<string, any>> = (ctx: CommandContext, opts: O, args: string[]) => Promise<number | void>;

export interface Runner {
  /** Wrap a handler into a commander action. */
  action<O = Record<string, any>>(handler: Handler<O>): (...a: any[]) => Promise<void>;
}

export function buildContext(cmd: Command, signal: AbortSignal): CommandContext {
  refuseEmptyValues(cmd, cmd.args);
  const all = cmd.optsWithGlobals() as GlobalFlags & Record<string, unknown>;
  const flags: GlobalFlags = {
    config: all.config,
    cluster: all.cluster,
    repo: all.repo,
    pgdata: all.pgdata,
    connection: all.connection,
    json: all.json,
    logLevel: all.logLevel,
    passphraseFile: all.passphraseFile,
  };
  // --json is known before the config is read, so a config error is printed as JSON too.
  const loaded = loadConfig(flags);
  // Storage requests in flight end at once on SIGINT/SIGTERM (the repository is opened from config.repo).
  const config = { ...loaded, repo: { ...loaded.repo, signal } };
  return {
    config,
    out: createOutput(config.json),
    log: createLogger(config.logLevel),
    signal,
    interactive: Boolean(process.stderr.isTTY) && !config.json,
  };
}

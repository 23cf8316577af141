/**
 * The pgkeep command line: global options, the command list, and the one place where errors
 * become messages and exit codes.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { EXIT, PgkeepError, toPgkeepError } from '../errors.js';
import { LOG_LEVELS, createOutput } from './output.js';
import { buildContext, type Runner } from './context.js';
import { AGENT_GRACE_MS, DRILL_GRACE_MS, GRACE_MS, Interrupts, WAL_STREAM_GRACE_MS } from './interrupt.js';
import { commandWord, registerCommands } from './commands/index.js';
import { stopWithParent } from './parent-watch.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../../package.json') as { version: string }).version;

export async function buildProgram(runner: Runner, args: string[] = []): Promise<Command> {
  const program = new Command('pgkeep');
  program
    .description('PostgreSQL backup and recovery: logical and physical backups, WAL archiving, point-in-time recovery')
    .version(VERSION, '-V, --version', 'print the version and exit')
    .option(
      '--config <file>',
      'config file (default: $PGKEEP_CONFIG, ./pgkeep.toml, ~/.config/pgkeep/pgkeep.toml, /etc/pgkeep/pgkeep.toml)',
    )
    .option('--cluster <name>', 'which [cluster.NAME] of the config to use (env PGKEEP_CLUSTER, default "main")')
    .option('--repo <path-or-url>', 'repository: a directory or s3://bucket/prefix (env PGKEEP_REPO)')
    .option('--pgdata <dir>', "the cluster's data directory (env PGKEEP_PGDATA)")
    .option('-d, --connection <conninfo>', 'libpq connection string or URI (env PGKEEP_CONNECTION; else PGHOST, PGPORT, PGUSER...)')
    .option('--passphrase-file <file>', 'read the repository passphrase from this file (env PGKEEP_PASSPHRASE_FILE or PGKEEP_PASSPHRASE)')
    .option('--json', 'print results and errors as JSON')
    .addOption(new Option('--log-level <level>', 'how much to log on stderr (env PGKEEP_LOG_LEVEL)').choices(LOG_LEVELS))
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Settings come from flags first, then environment variables, then the config file.
Connections follow libpq: a URI or key=value string, or PGHOST/PGPORT/PGUSER/PGPASSWORD/
PGDATABASE/PGSSLMODE/PGPASSFILE and ~/.pgpass. Exit codes are listed in docs/exit-codes.md.

Examples:
  pgkeep inspect                       what is in the cluster
  pgkeep doctor --method all           is the server ready for each kind of backup?
  pgkeep --cluster prod --json inspect machine-readable output for [cluster.prod]`,
    );
  await registerCommands(program, runner, args);
  return program;
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const jsonRequested = argv.includes('--json');
  // A closed stdout or stderr (`pgkeep ... | head`) is handled by runCli (run-cli.ts).
  const out = createOutput(jsonRequested);
  // As restore_command an interrupted `wal get` must not exit 1..125 ("not in the archive").
  // `status` speaks Nagios: a run that could not check at all is UNKNOWN (3), whatever the error.
  const failExit = (err: PgkeepError) => (commandWord(argv.slice(2)) === 'status' ? EXIT.STATUS_UNKNOWN : err.exitCode);
  const interruptedExit = (err: PgkeepError) => (isWalSub(argv.slice(2), 'get') ? EXIT.WAL_GET_FAILED : failExit(err));
  const interrupts = new Interrupts(
    (err) => {
      out.error(err);
      process.exit(interruptedExit(err));
    },
    isWalSub(argv.slice(2), 'stream')
      ? WAL_STREAM_GRACE_MS
      : commandWord(argv.slice(2)) === 'agent'
        ? AGENT_GRACE_MS
        : commandWord(argv.slice(2)) === 'drill'
          ? DRILL_GRACE_MS
          : GRACE_MS,
  );
  interrupts.install();
  stopWithParent();

  let exitCode: number = EXIT.OK;
  const runner: Runner = {
    action:
      (handler) =>
      async (...a: any[]) => {
        const cmd = a[a.length - 1] as Command;
        const opts = a[a.length - 2] as Record<string, any>;
        const args = a
          .slice(0, -2)
          .flat()
          .filter((x) => x !== undefined)
          .map(String);
        try {
          const ctx = buildContext(cmd, interrupts.signal);
          exitCode = (await handler(ctx, opts as any, args)) ?? EXIT.OK;
        } catch (e) {
          // Whatever failed after a signal failed because of it: report the interruption.
          const err = interrupts.reason ?? toPgkeepError(e);
          out.error(err);
          if (err.code === 'INTERNAL' && e instanceof Error && e.stack && argv.includes('debug')) process.stderr.write(e.stack + '\n');
          exitCode = interrupts.reason ? interruptedExit(err) : failExit(err);
        }
      },
  };

  const program = await buildProgram(runner, argv.slice(2));
  program.exitOverride();
  program.configureOutput({
    writeErr: (s) => {
      if (!jsonRequested) process.stderr.write(s);
    },
  });
  for (const sub of program.commands) applyExitOverride(sub, jsonRequested);

  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.OK;
      const err = new PgkeepError('USAGE', e.message.replace(/^error: /, ''), { hint: 'run with --help for usage' });
      if (jsonRequested) out.error(err);
      // As restore_command, any exit code from 1 to 125 means "not in the archive" and recovery
      // would end there, early: a mistyped `wal get` line must abort recovery instead.
      if (isWalSub(argv.slice(2), 'get')) return EXIT.WAL_GET_FAILED;
      return failExit(err);
    }
    const err = toPgkeepError(e);
    out.error(err);
    return failExit(err);
  } finally {
    interrupts.uninstall();
  }
  return exitCode;
}

function applyExitOverride(cmd: Command, json: boolean): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeErr: (s) => {
      if (!json) process.stderr.write(s);
    },
  });
  for (const sub of cmd.commands) applyExitOverride(sub, json);
}

function isWalSub(args: string[], sub: string): boolean {
  if (commandWord(args) !== 'wal') return false;
  const rest = args.slice(args.indexOf('wal') + 1);
  return commandWord(rest) === sub;
}

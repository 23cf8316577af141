/**
 * The command list. Each command lives in its own file and exports `register(program, runner)`;
 * add one entry here per file, with the top-level command names it registers.
 *
 * Modules are imported lazily: a run loads only the module of the command named on the command
 * line (all of them for --help or an unknown command). `wal push` runs once per WAL segment from
 * archive_command, so its start-up cost matters.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';

type Register = (program: Command, runner: Runner) => void;
interface CommandModule {
  names: string[];
  load: () => Promise<{ register: Register }>;
}

const COMMANDS: CommandModule[] = [
  { names: ['inspect'], load: () => import('./inspect.js') },
  { names: ['doctor'], load: () => import('./doctor.js') },
  { names: ['demo'], load: () => import('./demo.js') },
  { names: ['scenario'], load: () => import('./scenario.js') },
  { names: ['config'], load: () => import('./config.js') },
  { names: ['repo'], load: () => import('./repo.js') },
  { names: ['backup'], load: () => import('./backup.js') },
  { names: ['list'], load: () => import('./list.js') },
  { names: ['show'], load: () => import('./show.js') },
  { names: ['verify'], load: () => import('./verify.js') },
  { names: ['restore'], load: () => import('./restore.js') },
  { names: ['wal'], load: () => import('./wal.js') },
  { names: ['wal'], load: () => import('./wal-stream.js') },
  { names: ['wal'], load: () => import('./wal-async-push.js') },
  { names: ['wal'], load: () => import('./wal-spool.js') },
  { names: ['expire'], load: () => import('./expire.js') },
  { names: ['pin', 'unpin'], load: () => import('./pin.js') },
  { names: ['dump'], load: () => import('./dump.js') },
  { names: ['restore-dump'], load: () => import('./restore-dump.js') },
  { names: ['restore-table'], load: () => import('./restore-table.js') },
  { names: ['copy'], load: () => import('./copy.js') },
  { names: ['status'], load: () => import('./status.js') },
  { names: ['agent'], load: () => import('./agent.js') },
  { names: ['drill'], load: () => import('./drill.js') },
  { names: ['dashboard'], load: () => import('./dashboard.js') },
];

/** Global options that take a value (their value is not the command name). */
const VALUE_OPTIONS = new Set(['--config', '--cluster', '--repo', '--pgdata', '-d', '--connection', '--passphrase-file', '--log-level']);

/** The command word of an argv (after node and script), or undefined. */
export function commandWord(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (a.startsWith('-')) {
      if (!a.includes('=') && VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

export async function registerCommands(program: Command, runner: Runner, args: string[] = []): Promise<void> {
  const word = commandWord(args);
  const known = word !== undefined && COMMANDS.some((c) => c.names.includes(word));
  const chosen = known ? COMMANDS.filter((c) => c.names.includes(word!)) : COMMANDS;
  const modules = await Promise.all(chosen.map((c) => c.load()));
  for (const m of modules) m.register(program, runner);
}

/**
 * The command list. Each command lives in its own file and exports `register(program, runner)`;
 * add one line here per command.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';
import { register as demo } from './demo.js';
import { register as doctor } from './doctor.js';
import { register as inspect } from './inspect.js';
import { register as configCommand } from './config.js';
import { register as copyCommand } from './copy.js';
import { register as dumpCommand } from './dump.js';
import { register as restoreDumpCommand } from './restore-dump.js';
import { register as repoCommand } from './repo.js';

type Register = (program: Command, runner: Runner) => void;

const COMMANDS: Register[] = [
  inspect,
  doctor,
  demo,
  configCommand,
  copyCommand,
  dumpCommand,
  restoreDumpCommand,
  repoCommand,
];

export function registerCommands(program: Command, runner: Runner): void {
  for (const register of COMMANDS) register(program, runner);
}

/**
 * The command list. Each command lives in its own file and exports `register(program, runner)`;
 * add one line here per command.
 */
import type { Command } from 'commander';
import type { Runner } from '../context.js';

type Register = (program: Command, runner: Runner) => void;

const COMMANDS: Register[] = [
];

export function registerCommands(program: Command, runner: Runner): void {
  for (const register of COMMANDS) register(program, runner);
}

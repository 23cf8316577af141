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
import { register as restoreCommand } from './restore.js';
import { register as walCommand } from './wal.js';
import { register as expireCommand } from './expire.js';
import { register as pinCommand } from './pin.js';
import { register as walStreamCommand } from './wal-stream.js';
import { register as backupCommand } from './backup.js';
import { register as listCommand } from './list.js';
import { register as showCommand } from './show.js';
import { register as verifyCommand } from './verify.js';

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
  restoreCommand,
  walCommand,
  expireCommand,
  pinCommand,
  walStreamCommand,
  backupCommand,
  listCommand,
  showCommand,
  verifyCommand,
];

export function registerCommands(program: Command, runner: Runner): void {
  for (const register of COMMANDS) register(program, runner);
}

/**
 * No option or argument of the command line may be an empty string: `--to ""`, `--repo ""` or
 * `--pgdata ""` would otherwise be taken as the current directory (resolve('') is "."), and a
 * restore --delta there deletes what the snapshot lacks. Checked once for every command, before
 * the configuration is read; refused as USAGE naming the option.
 */
import type { Command } from 'commander';
import { PgkeepError } from '../errors.js';

export function refuseEmptyValues(cmd: Command, args: string[]): void {
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const o of c.options) {
      if (!o.required && !o.optional) continue; // a flag without a value
      const v: unknown = c.getOptionValue(o.attributeName());
      if (v === '' || (Array.isArray(v) && v.includes(''))) {
        throw new PgkeepError('USAGE', `${o.long ?? o.flags} was given an empty value`, {
          hint: 'give a value (an empty path is never taken as the current directory), or leave the option out',
        });
      }
    }
  }
  const i = args.indexOf('');
  if (i >= 0) {
    throw new PgkeepError('USAGE', `argument ${i + 1} of "${cmd.name()}" is empty`, { hint: 'give a value, or leave it out' });
  }
}

/**
 * The process around main(): its result becomes the exit code, and a main that has not settled
 * when node's event loop empties is a failure. Node ends once nothing is left to wait for,
 * whether or not a promise is still pending: a command stuck on something that can no longer
 * happen would otherwise end with exit code 0, as if it had succeeded.
 */
import { EXIT, PgkeepError, toPgkeepError } from '../errors.js';
import { createOutput } from './output.js';

export const UNSETTLED = 'pgkeep ended before its work finished';

export function runCli(argv: string[], main: (argv: string[]) => Promise<number>): void {
  const out = createOutput(argv.includes('--json'));
  let settled = false;
  const fail = (err: PgkeepError) => {
    out.error(err);
    process.exitCode = err.exitCode;
  };
  const onBeforeExit = () => {
    process.off('beforeExit', onBeforeExit);
    if (settled) return;
    settled = true;
    fail(
      new PgkeepError('INTERNAL', `${UNSETTLED}: nothing was left running, yet the command had not completed`, {
        hint: 'this is a bug in pgkeep: do not rely on what this run did; rerun with --log-level debug and report the output',
      }),
    );
  };
  process.on('beforeExit', onBeforeExit);
  // `pgkeep ... | head` closes the pipe early. Once main has settled, that is no error: exit with
  // its code. Before, the work goes on: what writes to the closed pipe fails (an export to
  // stdout), the rest finishes and gives the exit code. Exiting 0 here would report work that
  // was cut short as done.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      if (settled) process.exit(process.exitCode ?? EXIT.OK);
    });
  }
  main(argv).then(
    (code) => {
      if (settled) return;
      settled = true;
      process.exitCode = code;
    },
    (e: unknown) => {
      if (settled) return;
      settled = true;
      fail(toPgkeepError(e));
    },
  );
}

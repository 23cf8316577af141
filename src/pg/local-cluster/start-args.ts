/** Starting a throwaway cluster with pg_ctl: its arguments, and what a failed start says. */
import { PgkeepError } from '../../errors.js';
import type { StartOptions } from './options.js';
import { startFailureReason, tail } from './output-text.js';

export function pgCtlStartArgs(dataDir: string, logFile: string, configFile: string | undefined, opts: StartOptions): string[] {
  const args = ['start', '-D', dataDir, '-l', logFile, '-t', String(opts.timeoutSeconds ?? 120), opts.wait === false ? '-W' : '-w'];
  if (configFile) args.push('-o', `-c config_file=${configFile}`);
  return args;
}

/** The port was taken between choosing it and the server binding it (another cluster, another test). */
export function isPortConflict(log: string): boolean {
  return /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(log);
}

/** SERVER_NOT_READY with the reason from the server log and its tail. */
export function startError(dataDir: string, port: number, logFile: string, log: string): PgkeepError {
  const reason = startFailureReason(log);
  return new PgkeepError('SERVER_NOT_READY', `PostgreSQL in ${dataDir} did not start (port ${port})${reason ? `: ${reason}` : ''}`, {
    hint: `server log ${logFile}:\n${tail(log, 20)}`,
    details: { dataDir, port, logFile },
  });
}

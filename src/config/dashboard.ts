/**
 * [dashboard]: where the read-only web dashboard listens (served by `pgkeep agent`, or alone by
 * `pgkeep dashboard`) and the token it asks for. Without a port the agent serves none. The token
 * can also come from PGKEEP_DASHBOARD_TOKEN (so it need not sit in the file); it is required when
 * the address is not a loopback one (checked where the server starts: dashboard/listen-address.ts).
 */
import { PgkeepError } from '../errors.js';
import { parseDuration } from './duration.js';
import type { FieldType } from './schema.js';

export interface DashboardSettings {
  /** Absent: `pgkeep agent` serves no dashboard (`pgkeep dashboard` then uses its default port). */
  port?: number;
  /** Default 127.0.0.1. */
  host: string;
  token?: string;
  /** How long a gathered page is reused before the repository and servers are asked again. */
  refreshMs: number;
}

export const DASHBOARD_FIELDS: Record<string, FieldType> = {
  port: 'integer', // pgkeep agent serves the dashboard on this port (absent or 0: none)
  host: 'string', // ... on this address (default 127.0.0.1; any other needs a token)
  token: 'string', // asked of every request (header, or ?token= once, which sets a cookie)
  refresh: 'string', // the page's data is gathered again at most this often (default "30s")
};

export const DEFAULT_DASHBOARD_PORT = 8432;

type Table = Record<string, unknown>;

export function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new PgkeepError('CONFIG', `${what} must be a TCP port (1-65535, or 0 for any free one), got ${port}`);
  }
  return port;
}

export function dashboardSettings(t: Table = {}, env: NodeJS.ProcessEnv, file = 'the config file'): DashboardSettings {
  const key = (k: string) => `dashboard.${k} in ${file}`;
  const token = env.PGKEEP_DASHBOARD_TOKEN || (t.token as string | undefined) || undefined;
  if (token !== undefined && token.length < 16) {
    throw new PgkeepError(
      'CONFIG',
      `the dashboard token (${env.PGKEEP_DASHBOARD_TOKEN ? 'PGKEEP_DASHBOARD_TOKEN' : key('token')}) is shorter than 16 characters`,
      {
        hint: 'use a long random one, e.g. the output of "openssl rand -hex 24"',
      },
    );
  }
  return {
    ...(t.port ? { port: checkPort(t.port as number, key('port')) } : {}),
    host: (t.host as string | undefined) || '127.0.0.1',
    ...(token ? { token } : {}),
    refreshMs: parseDuration((t.refresh as string | undefined) ?? '30s', key('refresh')),
  };
}

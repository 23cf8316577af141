/**
 * The dashboard's HTTP server: read-only (GET and HEAD; any other method is 405), the page at /,
 * the same data as JSON at /data.json. A gathered round is reused for `refreshMs`, and requests
 * arriving while one is gathered wait for it (one round at a time, whatever the number of
 * readers). Listens on 127.0.0.1 unless told; elsewhere only with a token (access.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PgkeepError } from '../errors.js';
import type { PgkeepConfig } from '../config/index.js';
import { checkListenAccess, requestAccess } from './access.js';
import { gatherDashboard } from './gather.js';
import { renderPage } from './page.js';
import type { DashboardData } from './types.js';

export interface ServeDashboardOptions {
  config: PgkeepConfig;
  port: number;
  host?: string;
  token?: string;
  /** Reuse a gathered round this long (default 30 s). */
  refreshMs?: number;
  /** Only this cluster. */
  cluster?: string;
}

export interface DashboardServer {
  port: number;
  host: string;
  url: string;
  /** Replace the configuration (the agent's reload); the next round uses it. */
  setConfig(config: PgkeepConfig): void;
  close(): Promise<void>;
}

function cachedGather(o: ServeDashboardOptions): { get(): Promise<DashboardData>; setConfig(c: PgkeepConfig): void } {
  let config = o.config;
  let last: { at: number; data: DashboardData } | undefined;
  let inFlight: Promise<DashboardData> | undefined;
  const refreshMs = o.refreshMs ?? 30_000;
  return {
    setConfig: (c) => {
      config = c;
      last = undefined;
    },
    get: () => {
      if (last && Date.now() - last.at < refreshMs) return Promise.resolve(last.data);
      inFlight ??= gatherDashboard(config, { cluster: o.cluster })
        .then((data) => {
          last = { at: Date.now(), data };
          return data;
        })
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
  };
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export async function serveDashboard(o: ServeDashboardOptions): Promise<DashboardServer> {
  const host = o.host ?? '127.0.0.1';
  checkListenAccess(host, o.token);
  const data = cachedGather(o);
  const refreshSeconds = Math.max(5, Math.round((o.refreshMs ?? 30_000) / 1000));
  const server = createServer((req, res) => {
    handle(req, res, o.token, data.get, refreshSeconds).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
      res.end(`the dashboard failed: ${e instanceof Error ? e.message : String(e)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new PgkeepError('CONFIG', `the dashboard cannot listen on ${host}:${o.port}: ${e.code ?? e.message}`, {
          hint: e.code === 'EADDRINUSE' ? 'another process uses that port: choose another one ([dashboard] port or --port)' : undefined,
        }),
      ),
    );
    server.listen(o.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    setConfig: data.setConfig,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  token: string | undefined,
  get: () => Promise<DashboardData>,
  refreshSeconds: number,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res
      .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
      .end('the dashboard is read-only: GET only\n');
    return;
  }
  const url = new URL(req.url ?? '/', 'http://dashboard');
  const access = requestAccess(req, url, token);
  if (access.ok === 'redirect') {
    res.writeHead(303, { location: access.location, 'set-cookie': access.cookie, ...SECURITY_HEADERS }).end();
    return;
  }
  if (!access.ok && !token) {
    res
      .writeHead(403, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS })
      .end('without a token this dashboard answers only requests for localhost, 127.0.0.1 or [::1] (the Host header)\n');
    return;
  }
  if (!access.ok) {
    res
      .writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="pgkeep"', ...SECURITY_HEADERS })
      .end('a token is needed: open the page once with ?token=<token>, or send "Authorization: Bearer <token>"\n');
    return;
  }
  if (url.pathname === '/data.json') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : JSON.stringify(await get(), null, 2));
    return;
  }
  if (url.pathname !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end('the dashboard serves / and /data.json\n');
    return;
  }
  const nonce = randomBytes(16).toString('base64');
  const html = renderPage(await get(), { nonce, refreshSeconds });
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    ...SECURITY_HEADERS,
  });
  res.end(req.method === 'HEAD' ? undefined : html);
}

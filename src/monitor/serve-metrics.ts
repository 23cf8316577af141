/** The metrics endpoint: GET /metrics in Prometheus's text format, on localhost unless told. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultMetrics, type MonitorMetrics } from './metrics.js';

export interface ServeMetricsOptions {
  port: number;
  /** Default 127.0.0.1: metrics tell how backups go, so they are not offered to the network unless asked. */
  host?: string;
  metrics?: MonitorMetrics;
}

export interface MetricsServer {
  /** The port listened on (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export async function serveMetrics(o: ServeMetricsOptions): Promise<MetricsServer> {
  const metrics = o.metrics ?? defaultMetrics;
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('pgkeep serves GET /metrics\n');
      return;
    }
    metrics.text().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e instanceof Error ? e.message : String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

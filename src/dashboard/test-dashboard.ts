/**
 * Helpers of the dashboard test (not used by the product): a drill record written as `pgkeep
 * drill` keeps it, the dashboard started through the real CLI (its address read from its --json
 * line), and the browser found (PGKEEP_TEST_CHROMIUM or Debian's /usr/bin/chromium).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import type { DrillPhaseRecord, DrillRecord } from '../holdings/index.js';
import { PGKEEP_BIN } from '../test-support/cli.js';

/** The drill engineer's writer: a test record lands where and how `pgkeep drill` writes one. */
export { writeDrillRecord } from '../holdings/index.js';

export function drillRecord(cluster: string, startedAt: Date, rtoSeconds: number, rpoSeconds: number, backupId: string): DrillRecord {
  const phases: DrillPhaseRecord[] = [
    { name: 'choose', seconds: 1, ok: true },
    { name: 'restore', seconds: rtoSeconds - 11, ok: true },
    { name: 'wal', seconds: 6, ok: true },
    { name: 'start', seconds: 2, ok: true },
    { name: 'checks', seconds: 2, ok: true },
  ];
  return {
    format: 1,
    id: startedAt.toISOString().replace(/[-:.]/g, ''),
    cluster,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date(startedAt.getTime() + rtoSeconds * 1000).toISOString(),
    ok: true,
    backupId,
    target: { kind: 'latest' },
    rtoSeconds,
    rpoSeconds,
    phases,
    checks: [{ name: 'amcheck', ok: true }],
    host: 'test-host',
    pgkeepVersion: '0.1.0',
  };
}

/** The browser to drive: PGKEEP_TEST_CHROMIUM, else /usr/bin/chromium; a clear failure when neither exists. */
export function chromiumPath(): string {
  const path = process.env.PGKEEP_TEST_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `no Chromium at ${path}: install Debian's "chromium" package (.ci/run does) or set PGKEEP_TEST_CHROMIUM to a Chromium executable`,
    );
  }
  return path;
}

export interface RunningDashboard {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The URL in `pgkeep --json dashboard`'s result, once complete. */
export function dashboardResultUrl(out: string): string | undefined {
  try {
    return JSON.parse(out).url;
  } catch {
    return undefined;
  }
}

/** The URL in the agent's log line of event "dashboard". */
export function agentLogUrl(out: string): string | undefined {
  const line = out.split('\n').find((l) => l.includes('"event":"dashboard"'));
  return line ? /(http:\/\/\S+\/)/.exec(JSON.parse(line).message)?.[1] : undefined;
}

/**
 * `pgkeep --json ...args` as a child; resolves with the URL `urlIn` finds in its stdout (bounded:
 * 30 s). Default: `pgkeep dashboard`'s result.
 */
export function startDashboardCli(
  args: string[],
  env: Record<string, string> = {},
  urlIn: (stdout: string) => string | undefined = dashboardResultUrl,
): Promise<RunningDashboard> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PGKEEP_')));
  const child = spawn(process.execPath, [PGKEEP_BIN, '--json', ...args], { env: { ...clean, ...env } });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const stop = () =>
    new Promise<void>((res) => {
      if (child.exitCode !== null || child.signalCode !== null) return res();
      child.once('close', () => res());
      child.kill('SIGTERM');
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`no dashboard address within 30 s; stdout: ${out}; stderr: ${err}`));
    }, 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const url = urlIn(out);
      if (url === undefined) return;
      clearTimeout(timer);
      resolve({ url, child, stop });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`pgkeep ${args.join(' ')} exited (${code}) before serving the dashboard; stdout: ${out}; stderr: ${err}`));
    });
  });
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  await new Promise((res) => server.close(res));
  return port;
}

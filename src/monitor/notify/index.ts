/**
 * Send a state change to every configured channel: the JSON and Slack webhooks, and e-mail.
 * Each channel is retried within its bounds; a channel that still fails is reported through
 * `onFailure` and never stops the others nor the monitor.
 */
import { hostname } from 'node:os';
import type { NotifySettings } from '../../config/monitor.js';
import { sendEmail } from './email.js';
import { redact, type StateChange } from './event.js';
import { withRetries } from './retry.js';
import { postWebhook } from './webhook.js';

export interface Delivery {
  channel: string;
  ok: boolean;
  error?: string;
}

export interface NotifyOptions {
  /** Wait before the first retry (default 1 s). */
  backoffMs?: number;
  signal?: AbortSignal;
}

export async function notify(n: NotifySettings, e: StateChange, opts: NotifyOptions = {}): Promise<Delivery[]> {
  const retry = { retries: n.retries, timeoutMs: n.timeoutMs, backoffMs: opts.backoffMs, signal: opts.signal };
  const jobs: { channel: string; send: (signal: AbortSignal) => Promise<void> }[] = [
    ...n.webhooks.map((u) => ({ channel: `webhook ${redact(u)}`, send: (s: AbortSignal) => postWebhook(u, 'json', e, s) })),
    ...n.slackWebhooks.map((u) => ({ channel: `slack ${redact(u)}`, send: (s: AbortSignal) => postWebhook(u, 'slack', e, s) })),
    ...(n.smtp ? [{ channel: `e-mail via ${n.smtp.host}:${n.smtp.port}`, send: () => sendEmail(n.smtp!, e, n.timeoutMs) }] : []),
  ];
  return Promise.all(
    jobs.map(async (j) => {
      try {
        await withRetries(j.send, retry);
        return { channel: j.channel, ok: true };
      } catch (err) {
        return { channel: j.channel, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
}

/** The event of a change, stamped with this host. */
export function stateChange(fields: Omit<StateChange, 'host' | 'at'> & { at?: Date }): StateChange {
  return { ...fields, at: (fields.at ?? new Date()).toISOString(), host: hostname() };
}

export { messageText, summaryLine, type StateChange } from './event.js';

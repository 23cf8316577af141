/** Webhooks: a generic JSON POST of the whole event, and Slack's incoming-webhook shape {text}. */
import { messageText, type StateChange } from './event.js';

export type WebhookKind = 'json' | 'slack';

export function webhookBody(kind: WebhookKind, e: StateChange): unknown {
  return kind === 'slack' ? { text: messageText(e) } : { source: 'pgkeep', ...e };
}

/** One POST; a status other than 2xx is a failure (retried by the caller). */
export async function postWebhook(url: string, kind: WebhookKind, e: StateChange, signal: AbortSignal): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'pgkeep' },
    body: JSON.stringify(webhookBody(kind, e)),
    signal,
  });
  await res.arrayBuffer().catch(() => undefined);
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
}

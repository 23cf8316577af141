/** E-mail over SMTP with nodemailer: one message per state change, to every recipient. */
import nodemailer from 'nodemailer';
import type { NotifySettings } from '../../config/monitor.js';
import { messageText, summaryLine, type StateChange } from './event.js';

type Smtp = NonNullable<NotifySettings['smtp']>;

export async function sendEmail(smtp: Smtp, e: StateChange, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const pass = smtp.passwordEnv ? env[smtp.passwordEnv] : undefined;
  if (smtp.passwordEnv && pass === undefined) throw new Error(`the SMTP password variable ${smtp.passwordEnv} is not set`);
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls === 'tls',
    ignoreTLS: smtp.tls === 'none',
    ...(smtp.user ? { auth: { user: smtp.user, pass: pass ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail({ from: smtp.from, to: smtp.to, subject: summaryLine(e).slice(0, 200), text: messageText(e) });
  } finally {
    transport.close();
  }
}

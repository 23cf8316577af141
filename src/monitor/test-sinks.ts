/**
 * Test helpers: an HTTP server that records the POSTs it receives, and a minimal SMTP server
 * (RFC 5321's commands, no TLS, no AUTH) that records the messages nodemailer sends it.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';

export interface Sink<T> {
  url: string;
  port: number;
  received: T[];
  /** Resolves with the first item (received before or later) that matches; rejects after timeoutMs. */
  waitFor(match: (item: T) => boolean, timeoutMs: number, what: string): Promise<T>;
  close(): Promise<void>;
}

function waiter<T>(received: T[], listeners: Set<() => void>) {
  return (match: (item: T) => boolean, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const hit = received.find(match);
        if (!hit) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`${what} did not arrive within ${timeoutMs} ms; received: ${JSON.stringify(received).slice(0, 2000)}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
}

export interface HttpPost {
  path: string;
  body: any;
}

export async function httpSink(): Promise<Sink<HttpPost>> {
  const received: HttpPost[] = [];
  const listeners = new Set<() => void>();
  const server = createHttpServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.writeHead(200).end('ok');
      for (const l of [...listeners]) l();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    waitFor: waiter(received, listeners),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Mail {
  from: string;
  to: string[];
  data: string;
}

export async function smtpSink(): Promise<Sink<Mail>> {
  const received: Mail[] = [];
  const listeners = new Set<() => void>();
  const sockets = new Set<import('node:net').Socket>();
  const server = createTcpServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    let buf = '';
    let mail: Mail = { from: '', to: [], data: '' };
    let inData = false;
    const say = (line: string) => sock.write(`${line}\r\n`);
    say('220 sink ESMTP');
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          mail.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          received.push(mail);
          mail = { from: '', to: [], data: '' };
          say('250 queued');
          for (const l of [...listeners]) l();
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') say('250 sink');
        else if (verb === 'MAIL') {
          mail.from = line.slice(10);
          say('250 ok');
        } else if (verb === 'RCPT') {
          mail.to.push(line.slice(8));
          say('250 ok');
        } else if (verb === 'DATA') {
          inData = true;
          say('354 go on');
        } else if (verb === 'QUIT') {
          say('221 bye');
          sock.end();
          return;
        } else say('250 ok');
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    received,
    waitFor: waiter(received, listeners),
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

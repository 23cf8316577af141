/**
 * Who may read the dashboard. On a loopback address anyone on this host may (unless a token is
 * set); on any other address a token is required: in the Authorization header ("Bearer <token>"),
 * or once as ?token=<token>, which sets a cookie and redirects to the same page without it (so
 * the token does not stay in the address bar or the history). Compared in constant time.
 * Without a token (loopback only), a request whose Host header is not a loopback name is refused
 * too: a web page elsewhere reaching it through a rebound DNS name.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { PgkeepError } from '../errors.js';

export const COOKIE = 'pgkeep_dashboard';

/** localhost, 127.0.0.0/8 and ::1 (plain or IPv4-mapped). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** A token is needed to listen on a non-loopback address: refuse to start without one. */
export function checkListenAccess(host: string, token: string | undefined): void {
  if (token || isLoopback(host)) return;
  throw new PgkeepError('CONFIG', `the dashboard would listen on ${host}, reachable from other hosts, without a token`, {
    hint: 'set [dashboard] token (or PGKEEP_DASHBOARD_TOKEN) to a long random string, or listen on 127.0.0.1',
  });
}

/** The host name of a Host header ("127.0.0.1:8432", "[::1]:8432", "localhost"). */
export function hostOf(header: string): string {
  const m = /^\[([^\]]*)\]|^([^:]*)/.exec(header.trim());
  return (m?.[1] ?? m?.[2] ?? '').toLowerCase();
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Equal strings, in a time that does not depend on where they differ. */
export function sameToken(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export type Access = { ok: true } | { ok: false } | { ok: 'redirect'; location: string; cookie: string };

/** What to do with a request: serve it, refuse it (401 with a token, 403 for a foreign Host without), or set the cookie and redirect (?token=). */
export function requestAccess(req: IncomingMessage, url: URL, token: string | undefined): Access {
  // Without a token the dashboard listens on loopback only: a request naming another host is a
  // web page of elsewhere reaching it through a rebound DNS name, refused.
  if (!token) return { ok: isLoopback(hostOf(req.headers.host ?? '')) };
  const query = url.searchParams.get('token');
  if (query !== null) {
    if (!sameToken(query, token)) return { ok: false };
    url.searchParams.delete('token');
    return {
      ok: 'redirect',
      location: `${url.pathname}${url.search}`,
      cookie: `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
    };
  }
  const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const given = auth ?? cookieToken(req);
  return { ok: given !== undefined && sameToken(given, token) };
}

/**
 * Reading the bearer token from the request: the Authorization header only (RFC 6750 2.1). A token
 * in the query string (RFC 6750 2.3) is never read: it lands in access logs and browser history.
 */
import type { JwtFailureReason } from './jwt-reasons.ts';

export type BearerResult =
  | { readonly ok: true; readonly token: string }
  | { readonly ok: false; readonly presented: false }
  | { readonly ok: false; readonly presented: true; readonly reason: JwtFailureReason };

/** RFC 6750 2.1 b64token, after `Bearer` and one or more spaces. The scheme is case-insensitive (RFC 9110 11.1). */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Parse the Authorization header value(s). An array means the request carried the header more than
 * once: refused, since proxies disagree on which one counts. Node keeps only the first duplicate
 * of `authorization` in `req.headers`; use {@link authorizationFromRawHeaders} to see them all.
 */
export function parseBearer(authorization: string | readonly string[] | undefined): BearerResult {
  if (authorization === undefined) return { ok: false, presented: false };
  if (typeof authorization !== 'string') {
    if (authorization.length === 0) return { ok: false, presented: false };
    if (authorization.length > 1) return { ok: false, presented: true, reason: 'duplicate_header' };
    authorization = authorization[0]!;
  }
  if (authorization.trim() === '') return { ok: false, presented: false };
  const m = BEARER.exec(authorization);
  if (!m) return { ok: false, presented: true, reason: 'bad_scheme' };
  return { ok: true, token: m[1]! };
}

/**
 * Every Authorization value from `req.rawHeaders` (a flat name/value list): a string for one
 * header, an array when there are several, undefined for none.
 */
export function authorizationFromRawHeaders(rawHeaders: readonly string[]): string | string[] | undefined {
  const found: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // The length first: most names are not 13 characters, and lower-casing one allocates.
    if (name.length === 13 && name.toLowerCase() === 'authorization') found.push(rawHeaders[i + 1]!);
  }
  return found.length === 0 ? undefined : found.length === 1 ? found[0] : found;
}

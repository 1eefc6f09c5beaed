/**
 * Checks on a token before any key is looked up or any signature is computed: size, shape, and
 * the protected header. Cheap, pure, and the reason why a hostile header never causes a fetch:
 * `jku`, `x5u`, `jwk` and `x5c` name or carry keys chosen by the sender (RFC 8725 3.10), so the
 * token is refused outright rather than the header ignored.
 */
import type { JwtFailureReason } from './jwt-reasons.ts';

/** Larger than any real access token; a bigger one is refused before it is decoded. */
export const MAX_TOKEN_BYTES = 8192;
/** A kid is a lookup key, never a path or a query; longer ones are refused. */
export const MAX_KID_LENGTH = 256;

/**
 * Accepted `typ` values. RFC 9068 2.1 says access tokens carry `at+jwt`; many IdPs (Keycloak,
 * Entra ID, Auth0) still send `JWT` or nothing, so those pass too. Any other explicit type
 * (`dpop+jwt`, `logout+jwt`, `secevent+jwt`, ...) is a token for some other purpose (RFC 8725 3.11).
 */
const ACCEPTED_TYP = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt']);

/** Header parameters that make the token name its own key (RFC 8725 3.10) or demand extensions. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;

const B64URL = /^[A-Za-z0-9_-]+$/;

export interface ProtectedHeader {
  readonly alg: string;
  readonly kid?: string;
  readonly typ?: string;
  readonly [k: string]: unknown;
}

export type ShapeResult = { readonly ok: true; readonly header: ProtectedHeader } | { readonly ok: false; readonly reason: JwtFailureReason };

/** Check a compact JWS against the pinned algorithms. */
export function checkShape(token: string, algorithms: readonly string[]): ShapeResult {
  if (token.length > MAX_TOKEN_BYTES) return { ok: false, reason: 'malformed' };
  const parts = token.split('.');
  // Five parts would be a JWE: this resource accepts signed tokens only.
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL.test(h)) return { ok: false, reason: 'malformed' };
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return { ok: false, reason: 'malformed' };
  const hd = header as Record<string, unknown>;
  // Exact, case-sensitive match against the pinned list: `none`, `None`, `nOnE` and an HS256
  // token meant to be checked with an RSA public key (key confusion) all stop here.
  if (typeof hd.alg !== 'string' || !algorithms.includes(hd.alg)) return { ok: false, reason: 'bad_algorithm' };
  for (const name of FORBIDDEN_HEADERS) if (Object.hasOwn(hd, name)) return { ok: false, reason: 'forbidden_header' };
  if (hd.kid !== undefined && (typeof hd.kid !== 'string' || hd.kid.length === 0 || hd.kid.length > MAX_KID_LENGTH || !/^[\x20-\x7e]+$/.test(hd.kid))) {
    return { ok: false, reason: 'malformed' };
  }
  if (hd.typ !== undefined && (typeof hd.typ !== 'string' || !ACCEPTED_TYP.has(hd.typ.toLowerCase()))) return { ok: false, reason: 'bad_type' };
  if (!B64URL.test(p) || !B64URL.test(s)) return { ok: false, reason: 'malformed' };
  return { ok: true, header: hd as ProtectedHeader };
}

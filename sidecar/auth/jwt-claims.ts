/**
 * From verified claims to an Identity, and the group and scope checks on it. Pure functions: the
 * signature, issuer, audience and times are already checked when these run.
 */
import { createHash } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { Identity } from '../context.ts';

/** Hex characters of SHA-256 kept in an identity id: 64 bits, plenty to key rate limits. */
const ID_HEX = 16;

/** `jwt:` + short hex SHA-256 of iss, NUL, sub. The NUL keeps ("a","bc") and ("ab","c") apart. */
export function jwtIdentityId(iss: string, sub: string): string {
  return `jwt:${createHash('sha256').update(`${iss}\0${sub}`).digest('hex').slice(0, ID_HEX)}`;
}

/** Walk a dotted claim path (`realm_access.roles`); a claim literally named with dots wins. */
function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let cur: unknown = payload;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Groups: an array of strings, or one string (one group). Anything else counts as none. */
export function groupsOf(payload: JWTPayload, claimPath: string): string[] {
  const v = claimAt(payload, claimPath);
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === 'string' && g !== '');
  return [];
}

function words(v: unknown): string[] {
  if (typeof v === 'string') return v.split(' ').filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}

/** Scopes: `scope` is a space-separated string (RFC 9068 2.2.3, RFC 8693 4.2); `scp` (Entra, Okta) an array or string. */
export function scopesOf(payload: JWTPayload): string[] {
  return [...new Set([...words(payload.scope), ...words(payload.scp)])];
}

/** The Identity for verified claims; `iss`, `sub` and `exp` are known to be present. */
export function identityOf(payload: JWTPayload & { iss: string; sub: string; exp: number }, groupsClaim: string): Identity {
  return Object.freeze({
    kind: 'jwt' as const,
    id: jwtIdentityId(payload.iss, payload.sub),
    subject: payload.sub,
    issuer: payload.iss,
    groups: Object.freeze(groupsOf(payload, groupsClaim)),
    scopes: Object.freeze(scopesOf(payload)),
    expiresAt: payload.exp,
  });
}

export type AuthzResult = { readonly ok: true } | { readonly ok: false; readonly reason: 'insufficient_group' | 'insufficient_scope' };

/** Any one required group, and every required scope. Empty requirements always pass. */
export function authorize(identity: Identity, requiredGroups: readonly string[], requiredScopes: readonly string[]): AuthzResult {
  if (requiredGroups.length > 0 && !requiredGroups.some((g) => identity.groups.includes(g))) return { ok: false, reason: 'insufficient_group' };
  if (!requiredScopes.every((s) => identity.scopes.includes(s))) return { ok: false, reason: 'insufficient_scope' };
  return { ok: true };
}

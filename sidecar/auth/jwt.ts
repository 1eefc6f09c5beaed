/**
 * JWT bearer authentication: `Authorization: Bearer <jwt>` -> Identity, or the Reply that refuses.
 *
 *   parse header -> shape and header checks -> cache? -> jwtVerify (pinned algs, iss, aud, exp,
 *   nbf with skew) -> iat not in the future (with skew) -> Identity -> groups (any one) and scopes (all)
 *
 * Decisions, each a documented choice:
 * - Algorithms default to RS256, PS256, ES256, EdDSA, or HS256 with a shared secret; symmetric
 *   and asymmetric algorithms never mix with one key source (RFC 8725 3.1, key confusion).
 * - `typ` may be `at+jwt` (RFC 9068) or `JWT`/absent (common IdPs); other types are refused.
 * - `exp`, `sub` and `aud` are required, and `iss` whenever an issuer is configured.
 * - An unknown kid that cannot be checked because the IdP is down or slow gets 503
 *   ERR_AUTH_IDP_UNAVAILABLE with Retry-After (the token may be valid; `invalid_token` would
 *   make the client drop it). It is never allowed. An unknown kid the IdP does not have: 401.
 */
import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.ts';
import type { Identity, Reply } from '../context.ts';
import { resolveAlgorithms } from './jwt-algorithms.ts';
import { forbiddenReply, idpUnavailableReply, unauthorizedReply } from './challenge.ts';
import { parseBearer } from './jwt-bearer.ts';
import { authorize, identityOf } from './jwt-claims.ts';
import { IdpUnavailableError, REASON_TEXT, reasonOf, type JwtFailureReason } from './jwt-reasons.ts';
import { checkShape } from './jwt-shape.ts';
import { createJwksSource, type JwksSource } from './jwks.ts';
import { createTokenCache } from './token-cache.ts';


export type AuthResult = { readonly ok: true; readonly identity: Identity } | { readonly ok: false; readonly reply: Reply; readonly reason?: JwtFailureReason };

export interface JwtAuthenticatorDeps {
  readonly fetch?: typeof fetch;
  /** Milliseconds since epoch; drives token times, the cache and the JWKS cooldown. */
  readonly now?: () => number;
  /** Called once per refused token with a reason from JWT_FAILURE_REASONS (for the metric). */
  readonly onFailure?: (reason: JwtFailureReason) => void;
}

export interface JwtAuthenticator {
  authenticate(authorization: string | readonly string[] | undefined): Promise<AuthResult>;
  /** Fetch discovery and keys now; true when keys are loaded (shared secret: always). Never throws. */
  warm(): Promise<boolean>;
  /** Counters: tokens served from cache, key lookups (signature checks), fetches. */
  stats(): { readonly cacheHits: number; readonly keyLookups: number; readonly discoveryFetches: number; readonly jwksFetches: number };
  close(): void;
}


/**
 * Build the authenticator from a Config that loadConfig checked (issuer or key source, audience,
 * resource URL, algorithms against the key source). Never fetches until the first request or warm().
 */
export function createJwtAuthenticator(config: Config, deps: JwtAuthenticatorDeps = {}): JwtAuthenticator {
  const algorithms = resolveAlgorithms(config);
  const now = deps.now ?? Date.now;
  const skew = config.jwtClockSkewSeconds;
  const cache = createTokenCache<Identity>({ maxEntries: config.jwtCacheMaxEntries });
  let cacheHits = 0;
  let keyLookups = 0;

  let source: JwksSource | undefined;
  let getKey: JWTVerifyGetKey;
  if (config.jwtSecret !== undefined) {
    const secret = new TextEncoder().encode(config.jwtSecret);
    getKey = async () => {
      keyLookups++;
      return secret;
    };
  } else {
    const src = createJwksSource({ issuer: config.jwtIssuer, jwksUrl: config.jwtJwksUrl, timeoutMs: config.jwtJwksTimeoutMs, cooldownMs: config.jwtJwksCooldownMs, fetch: deps.fetch, now });
    source = src;
    getKey = (header, token) => {
      keyLookups++;
      return src.getKey(header, token);
    };
  }

  const refuse = (reason: JwtFailureReason, retryAfter?: number): AuthResult => {
    deps.onFailure?.(reason);
    if (reason === 'idp_unavailable') return { ok: false, reason, reply: idpUnavailableReply(retryAfter ?? 1) };
    if (reason === 'insufficient_group' || reason === 'insufficient_scope') {
      return { ok: false, reason, reply: forbiddenReply(config, { scopes: config.jwtRequiredScopes, description: REASON_TEXT[reason] }) };
    }
    return { ok: false, reason, reply: unauthorizedReply(config, { tokenPresented: true, description: REASON_TEXT[reason] }) };
  };

  const required = ['exp', 'sub', 'aud', ...(config.jwtIssuer !== undefined ? ['iss'] : [])];

  async function verify(token: string): Promise<Identity | JwtFailureReason | IdpUnavailableError> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, getKey, {
        algorithms: [...algorithms],
        issuer: config.jwtIssuer,
        audience: [...config.jwtAudience!],
        clockTolerance: skew,
        requiredClaims: required,
        currentDate: new Date(now()),
      }));
    } catch (err) {
      return err instanceof IdpUnavailableError ? err : reasonOf(err);
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.exp !== 'number') return 'missing_claim';
    // jose checks iat only against a maximum token age; a token issued in the future is as wrong as
    // one not yet valid (RFC 7519 4.1.6), so the skew bounds iat as it bounds exp and nbf.
    if (typeof payload.iat === 'number' && payload.iat > now() / 1000 + skew) return 'not_yet_valid';
    return identityOf({ ...payload, iss: typeof payload.iss === 'string' ? payload.iss : '', sub: payload.sub, exp: payload.exp }, config.jwtGroupsClaim);
  }

  return {
    async authenticate(authorization) {
      const bearer = parseBearer(authorization);
      if (!bearer.ok) {
        if (!bearer.presented) return { ok: false, reply: unauthorizedReply(config, { tokenPresented: false }) };
        return refuse(bearer.reason);
      }
      const shape = checkShape(bearer.token, algorithms);
      if (!shape.ok) return refuse(shape.reason);

      let identity = cache.get(bearer.token, now() / 1000);
      if (identity !== undefined) cacheHits++;
      else {
        const out = await verify(bearer.token);
        if (out instanceof IdpUnavailableError) return refuse('idp_unavailable', out.retryAfterSeconds);
        if (typeof out === 'string') return refuse(out);
        identity = out;
        // Same tolerance as jose's exp check, so a cached token expires when a fresh check would fail.
        cache.set(bearer.token, identity, identity.expiresAt! + skew);
      }
      const authz = authorize(identity, config.jwtRequiredGroups, config.jwtRequiredScopes);
      if (!authz.ok) return refuse(authz.reason);
      return { ok: true, identity };
    },
    warm: async () => (source === undefined ? true : source.warm()),
    stats: () => ({ cacheHits, keyLookups, ...(source?.stats() ?? { discoveryFetches: 0, jwksFetches: 0 }) }),
    close() {
      source?.close();
      cache.clear();
    },
  };
}

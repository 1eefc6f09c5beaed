/**
 * Signing keys from the IdP: OpenID discovery (once), then the JWKS, cached. Built on jose's
 * `createLocalJWKSet` rather than `createRemoteJWKSet` because the remote set re-fetches, and
 * fails, once its cache is stale: with the IdP down, keys already known must keep working.
 *
 * Rules (THREATS.md "JWKS"):
 * - an unknown `kid` causes at most one refetch per cooldown, however many tokens carry one;
 *   concurrent lookups share one fetch (single flight);
 * - every fetch is bounded by the timeout, body included, and by a size cap;
 * - a failed fetch never means "allow": the caller gets IdpUnavailableError;
 * - discovery that failed is retried by later requests (at most once a second, or per cooldown
 *   if shorter), and its `issuer` must equal the configured one exactly (OpenID Discovery 4.3).
 */
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import { IdpUnavailableError } from './jwt-reasons.ts';

/** Most a discovery document or JWKS may weigh. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;
/** Least time between two attempts while no key set was ever loaded (IdP down at start). */
export const LOAD_RETRY_MS = 1_000;
/** Keys older than this are refreshed in the background (revoked keys go away); the old set stays in use meanwhile. */
export const MAX_KEY_AGE_MS = 10 * 60_000;

export interface JwksSourceOptions {
  /** Issuer for discovery; used when `jwksUrl` is unset. */
  readonly issuer?: string;
  /** JWKS URL; skips discovery. */
  readonly jwksUrl?: string;
  readonly timeoutMs: number;
  readonly cooldownMs: number;
  readonly fetch?: typeof fetch;
  /** Milliseconds since epoch. */
  readonly now?: () => number;
}

export interface JwksSource {
  /** The key function jwtVerify calls. Throws JWKSNoMatchingKey (unknown kid) or IdpUnavailableError. */
  getKey(header: JWSHeaderParameters, token: FlattenedJWSInput): ReturnType<LocalSet>;
  /** Load the keys now (at start, for readiness). True when a key set is loaded. Never throws. */
  warm(): Promise<boolean>;
  /** Fetch counters (for tests and metrics). */
  stats(): { readonly discoveryFetches: number; readonly jwksFetches: number };
  /** Abort fetches in flight. */
  close(): void;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

export function createJwksSource(opts: JwksSourceOptions): JwksSource {
  if (opts.jwksUrl === undefined && opts.issuer === undefined) throw new TypeError('JWKS source: expected jwksUrl or issuer');
  const doFetch = opts.fetch ?? globalThis.fetch;
  const now = opts.now ?? Date.now;
  const closing = new AbortController();
  let jwksUri = opts.jwksUrl;
  let local: LocalSet | undefined;
  let loadedAt = 0;
  let lastAttemptAt = -Infinity;
  let lastAttemptOk = true;
  let inflight: Promise<void> | undefined;
  let discoveryFetches = 0;
  let jwksFetches = 0;

  async function getJson(url: string): Promise<Record<string, unknown>> {
    const signal = AbortSignal.any([AbortSignal.timeout(opts.timeoutMs), closing.signal]);
    // redirect: 'error': a key source that moves is a misconfiguration, and following it widens
    // where a compromised DNS answer could send us.
    const res = await doFetch(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
    if (!res.ok || res.body === null) {
      await res.body?.cancel();
      throw new Error(`${url}: HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_DOCUMENT_BYTES) {
      await res.body.cancel();
      throw new Error(`${url}: document over ${MAX_DOCUMENT_BYTES} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > MAX_DOCUMENT_BYTES) throw new Error(`${url}: document over ${MAX_DOCUMENT_BYTES} bytes`);
      chunks.push(chunk);
    }
    const doc: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${url}: expected a JSON object`);
    return doc as Record<string, unknown>;
  }

  async function discover(issuer: string): Promise<string> {
    discoveryFetches++;
    // OpenID Connect Discovery 4.1: issuer (without a trailing slash) + /.well-known/openid-configuration.
    const meta = await getJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    if (meta.issuer !== issuer) throw new Error(`discovery: issuer ${JSON.stringify(meta.issuer)} is not the configured ${JSON.stringify(issuer)}`);
    const uri = meta.jwks_uri;
    if (typeof uri !== 'string' || !/^https?:\/\//.test(uri)) throw new Error('discovery: jwks_uri missing or not an http(s) URL');
    return new URL(uri).href;
  }

  async function load(): Promise<void> {
    lastAttemptAt = now();
    try {
      jwksUri ??= await discover(opts.issuer!);
      jwksFetches++;
      const jwks = await getJson(jwksUri);
      local = createLocalJWKSet(jwks as unknown as JSONWebKeySet);
      loadedAt = now();
      lastAttemptOk = true;
    } catch (err) {
      lastAttemptOk = false;
      throw err;
    }
  }

  /** One fetch at a time; callers arriving meanwhile share its outcome. */
  function refresh(): Promise<void> {
    inflight ??= load().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  function retryAfterSeconds(intervalMs: number): number {
    return Math.max(1, (lastAttemptAt + intervalMs - now()) / 1000);
  }

  async function refreshOrUnavailable(intervalMs: number): Promise<void> {
    try {
      await refresh();
    } catch {
      throw new IdpUnavailableError('the identity provider could not be reached', retryAfterSeconds(intervalMs));
    }
  }

  return {
    async getKey(header, token) {
      const loadRetry = Math.min(opts.cooldownMs, LOAD_RETRY_MS);
      if (local === undefined) {
        if (inflight === undefined && now() - lastAttemptAt < loadRetry) throw new IdpUnavailableError('no signing keys loaded yet', retryAfterSeconds(loadRetry));
        await refreshOrUnavailable(loadRetry);
      } else if (now() - loadedAt > MAX_KEY_AGE_MS && now() - lastAttemptAt >= opts.cooldownMs && inflight === undefined) {
        refresh().catch(() => {}); // background: the current keys serve meanwhile
      }
      try {
        return await local!(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
        if (inflight !== undefined) {
          // Someone is already fetching: wait for that one fetch instead of starting another.
          await refreshOrUnavailable(opts.cooldownMs);
        } else if (now() - lastAttemptAt < opts.cooldownMs) {
          // Within the cooldown. If the last fetch failed, the key may exist and we cannot tell.
          if (!lastAttemptOk) throw new IdpUnavailableError('the identity provider could not be reached', retryAfterSeconds(opts.cooldownMs));
          throw err;
        } else {
          await refreshOrUnavailable(opts.cooldownMs);
        }
        return local!(header, token);
      }
    },
    async warm() {
      try {
        if (local === undefined) await refresh();
        return true;
      } catch {
        return false;
      }
    },
    stats: () => ({ discoveryFetches, jwksFetches }),
    close() {
      closing.abort();
    },
  };
}

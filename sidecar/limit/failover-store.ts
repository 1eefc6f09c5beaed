/**
 * What a decision does when the shared store cannot make it (MCP_AUTH_RATE_LIMIT_REDIS_FAILURE):
 * a RateLimitStore around the shared one, so the limiter never knows which store it has.
 *
 *   local   (default) the per-sidecar memory store decides, as without Redis: limits stay on,
 *           N replicas allow up to N times the rate until Redis answers again.
 *   open    the request passes unlimited (it still gets RateLimit fields, those of a full bucket).
 *   closed  the take rejects with StoreUnavailableError; the limiter answers 503 with Retry-After.
 *
 * The shared store is skipped without any I/O while it reports itself unavailable (the Redis
 * client knows after one timeout or connection error, and probes in the background), so a Redis
 * outage costs each request nothing, not a timeout. A take that fails (timeout, lost connection,
 * an error reply) falls back the same way, after at most the command timeout.
 */
import { ERR } from '../errors.ts';
import type { REDIS_FAILURE_MODES } from '../settings.ts';
import type { SharedStore } from './redis-store.ts';
import type { RateLimitStore } from './store.ts';
import { takeToken, type BucketPolicy, type TakeResult } from './token-bucket.ts';

/** The modes of MCP_AUTH_RATE_LIMIT_REDIS_FAILURE, as the settings table lists them. */
export type FailureMode = (typeof REDIS_FAILURE_MODES)[number];

/** Retry-After for `closed`: the Redis client's reconnect backoff tops out at about a second. */
export const UNAVAILABLE_RETRY_AFTER_MS = 1000;

/** A decision the store could not make, in `closed` mode. The limiter turns it into a 503. */
export class StoreUnavailableError extends Error {
  readonly code = ERR.RATE_LIMIT_UNAVAILABLE;
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number) {
    super('The shared rate-limit store is unavailable');
    this.name = 'StoreUnavailableError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** Why a decision was made without the shared store: known down (skipped) or the take failed. */
export type FallbackReason = 'down' | 'error';

export type FailoverOptions = {
  readonly shared: SharedStore;
  /** Called once per decision made without the shared store. */
  readonly onFallback?: (mode: FailureMode, reason: FallbackReason) => void;
} & ({ readonly mode: 'local'; readonly local: RateLimitStore } | { readonly mode: Exclude<FailureMode, 'local'> });

export function createFailoverStore(opts: FailoverOptions): RateLimitStore {
  const { shared, onFallback, mode } = opts;
  const local = opts.mode === 'local' ? opts.local : undefined;
  const closed = new StoreUnavailableError(UNAVAILABLE_RETRY_AFTER_MS);

  function fallback(key: string, policy: BucketPolicy, now: number, reason: FallbackReason): TakeResult | Promise<TakeResult> {
    onFallback?.(mode, reason);
    if (local !== undefined) return local.take(key, policy, now);
    if (mode === 'open') {
      // What a full bucket would answer: the client is told nothing it could not have had.
      const { allowed, remaining, resetMs } = takeToken(now, policy, now);
      return { allowed, remaining, resetMs };
    }
    return Promise.reject(closed);
  }

  return {
    take(key, policy, now) {
      if (!shared.available) return fallback(key, policy, now, 'down');
      return shared.take(key, policy, now).then(undefined, () => fallback(key, policy, now, 'error'));
    },
  };
}

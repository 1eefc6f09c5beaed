/**
 * Where bucket state lives. The limiter stages only call `take`; the default store is in memory
 * (memory-store.ts), and the shared store replaces it without touching the stages.
 *
 * With the memory store limits are per sidecar: each replica of a Deployment has its own buckets,
 * so with N replicas behind a Service a client can get up to N times the configured rate (and N
 * times the burst) when its requests are spread across them. The Redis store (redis-store.ts) runs
 * the same GCRA step in one Lua script on a Redis all replicas share, which makes the limits
 * cluster-wide; failover-store.ts wraps it with what to do while Redis cannot answer.
 */
import type { BucketPolicy, TakeResult } from './token-bucket.ts';

export type { BucketPolicy, TakeResult } from './token-bucket.ts';

export interface RateLimitStore {
  /**
   * Refill the bucket of `key` under `policy` up to `now` (ms, from the limiter's clock) and take
   * one token if there is one. Must be atomic per key: concurrent takes never overdraw a bucket
   * (a shared store does the read-modify-write server-side, never as GET then SET from here).
   *
   * `key` is already a hash or a non-secret id (an Identity.id, a client IP); a store may hash it
   * further. A key keeps one policy for its whole life.
   *
   * A store that cannot answer rejects; the stage then answers 503 with Retry-After (the
   * rejection's `retryAfterMs`). Whether a Redis outage reaches the stage as a rejection, a local
   * decision or a pass is MCP_AUTH_RATE_LIMIT_REDIS_FAILURE's choice, made by failover-store.ts.
   */
  take(key: string, policy: BucketPolicy, now: number): TakeResult | Promise<TakeResult>;
}

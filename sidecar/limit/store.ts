/**
 * Where bucket state lives. The limiter stages only call `take`; the default store is in memory
 * (memory-store.ts), and a shared store can replace it without touching the stages.
 *
 * Limits are per sidecar today: each replica of a Deployment has its own sidecar and its own
 * in-memory buckets, so with N replicas behind a Service a client can get up to N times the
 * configured rate (and N times the burst) when its requests are spread across them. A store shared
 * by the replicas (e.g. Redis running the same GCRA step in one Lua script) makes the limits
 * cluster-wide; this interface is the seam for it.
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
   * A store that cannot answer (network down) should reject; the stage then fails closed.
   */
  take(key: string, policy: BucketPolicy, now: number): TakeResult | Promise<TakeResult>;
}

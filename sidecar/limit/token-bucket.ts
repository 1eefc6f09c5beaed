/**
 * Token-bucket arithmetic, as GCRA (the Generic Cell Rate Algorithm, ITU-T I.371): a bucket of
 * capacity `burst` refilled at `perMinute` tokens a minute is exactly described by one number per
 * key, the theoretical arrival time `tat` (ms). The bucket holds
 *
 *   tokens(now) = (now + burst * T - max(tat, now)) / T      where T = 60000 / perMinute ms
 *
 * and is full exactly when `tat <= now`. One float per key (instead of tokens + last refill) keeps
 * the store small, and "full" needs no policy, so any entry's evictability is one comparison.
 *
 * Pure functions of (tat, policy, now): no clock, no I/O. The store decides where `tat` lives.
 */

/** A rate-limit policy: a bucket of `burst` tokens, refilled at `perMinute` tokens a minute. */
export interface BucketPolicy {
  /** Policy name as advertised in RateLimit-Policy and RateLimit (`ip`, `identity`, `tool:NAME`). */
  readonly name: string;
  readonly perMinute: number;
  readonly burst: number;
  /** Emission interval: ms per token (60000 / perMinute). */
  readonly intervalMs: number;
  /** Burst tolerance: ms of credit a full bucket holds (burst * intervalMs). */
  readonly toleranceMs: number;
}

/** The answer to one take. */
export interface TakeResult {
  readonly allowed: boolean;
  /** Whole tokens left after this take (0 when refused). */
  readonly remaining: number;
  /**
   * Ms until one more token is available. When refused this is the wait before a retry can
   * succeed (Retry-After); when allowed, the effective window of RateLimit's `t`.
   */
  readonly resetMs: number;
}

/** The outcome of one GCRA step: the decision and the key's new `tat`. */
export interface Step extends TakeResult {
  readonly tat: number;
}

/** Build a policy; callers validate the numbers (whole, >= 1) before. */
export function bucketPolicy(name: string, perMinute: number, burst: number): BucketPolicy {
  const intervalMs = 60_000 / perMinute;
  return Object.freeze({ name, perMinute, burst, intervalMs, toleranceMs: burst * intervalMs });
}

/**
 * Try to take one token from a bucket whose state is `tat` (use `now`, or anything <= now, for a
 * bucket never seen: it is full). Refusal leaves `tat` unchanged, so a client hammering a refused
 * bucket does not push its own recovery further away.
 */
export function takeToken(tat: number, policy: BucketPolicy, now: number): Step {
  const { intervalMs: T, toleranceMs: tau } = policy;
  const next = Math.max(tat, now) + T;
  const debt = next - now; // ms of credit this take would use, including itself
  if (debt > tau) {
    // Refused: one token arrives when the debt falls to tau.
    return { allowed: false, remaining: 0, resetMs: debt - tau, tat };
  }
  // Tiny epsilon: 60000/7-style intervals make (tau - debt) / T land at 2.9999999 for 3.
  const remaining = Math.max(0, Math.floor((tau - debt) / T + 1e-9));
  return { allowed: true, remaining, resetMs: debt - tau + (remaining + 1) * T, tat: next };
}

/** Whether the bucket is full at `now`: forgetting it then is indistinguishable from keeping it. */
export function isFull(tat: number, now: number): boolean {
  return tat <= now;
}

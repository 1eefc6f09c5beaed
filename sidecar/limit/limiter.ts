/**
 * The rate-limit stages of the request pipeline:
 *
 *   ipStage        BEFORE authentication: every request costs its client IP a token, so failed
 *                  credentials (guessing API keys, replaying bad JWTs) spend the IP's budget.
 *   identityStage  after authentication: per Identity.id (an API key's hash, a JWT's iss+sub hash).
 *                  With auth off (no identity, or kind 'none') the caller's identity is its IP key.
 *   toolStage      after the body is parsed: per identity per tool, for tools listed under
 *                  `rateLimit.tools` in the config file; each tools/call in a batch costs a token.
 *   streams        concurrent long-lived streams per identity: GET event streams and
 *                  subscriptions/listen (streams.ts).
 *
 * A stage that is not configured is undefined, so the pipeline skips it at no cost. Every
 * refusal is a 429 (never 503: the server is fine, this client is over its budget) with
 * Retry-After and RateLimit fields; every pass adds its RateLimit fields to the response
 * (ctx.responseHeaders), so well-behaved clients can pace themselves before being refused.
 *
 * Buckets live in a RateLimitStore. By default each limiter has its own in-memory store of
 * `rateLimitMaxKeys` keys (memory-store.ts: 3.45 MB each at the default 100,000 keys, fixed at
 * start). Limits are per sidecar: N replicas allow N times the rate unless a shared store is
 * passed as `deps.store` (the Redis store inside its failure-mode wrapper, failover-store.ts). A
 * take that rejects is a decision no store could make: the request gets 503 with Retry-After
 * (the rejection's `retryAfterMs`, else 1 s), never a pass.
 */
import type { Config } from '../config.ts';
import type { Reply, RequestContext, Stage } from '../context.ts';
import type { Sections } from '../sections.ts';
import { RATELIMIT, RATELIMIT_POLICY, appendItem, limitItem, limitUnavailable, policyItem, seconds, tooManyRequests, type LimitLabel } from './headers.ts';
import { ipKey } from './ip.ts';
import { createMemoryStore, type MemoryStore } from './memory-store.ts';
import type { RateLimitStore } from './store.ts';
import { createStreamLimiter, type StreamLimiter } from './streams.ts';
import { bucketPolicy, type BucketPolicy, type TakeResult } from './token-bucket.ts';
import { defaultBurst } from './tool-limits.ts';

/** The settings the limiter reads (a full Config satisfies it). */
export type LimiterConfig = Pick<Config, 'rateLimitPerMinute' | 'rateLimitBurst' | 'rateLimitPerIpPerMinute' | 'rateLimitMaxKeys' | 'maxStreamsPerIdentity'> & {
  readonly sections: Pick<Sections, 'rateLimit.tools'>;
};

export interface RateLimiterDeps {
  /** Clock in ms; monotonic by default (performance.now), so wall-clock steps never refill buckets. */
  readonly now?: () => number;
  /** A shared store for all limiters (keys are prefixed `ip:`, `id:`, `tool:NAME:`). */
  readonly store?: RateLimitStore;
  /** Called once per refusal with the limit that refused (metrics: mcp_warden_rate_limited_total). */
  readonly onLimited?: (limit: LimitLabel) => void;
  /** IPv6 clients are limited per network of this many bits (default 64); see ip.ts. */
  readonly ipv6PrefixBits?: number;
}

export interface RateLimiter {
  readonly ipStage: Stage | undefined;
  readonly identityStage: Stage | undefined;
  readonly toolStage: Stage | undefined;
  readonly streams: StreamLimiter | undefined;
  /** The in-memory stores in use (none when deps.store is given), for gauges and tests. */
  readonly stores: { readonly ip?: MemoryStore; readonly identity?: MemoryStore; readonly tool?: MemoryStore };
}

const isPromise = <T>(v: T | Promise<T>): v is Promise<T> => typeof (v as { then?: unknown } | null)?.then === 'function';

/** Retry-After when a store rejects without saying when to retry. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/** A rejected take: 503 with the store's Retry-After. */
function unavailable(err: unknown): Reply {
  const ms = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return limitUnavailable(seconds(typeof ms === 'number' && ms > 0 ? ms : DEFAULT_RETRY_AFTER_MS));
}

/**
 * Build the rate-limit stages from the configuration (values loadConfig has already checked against
 * the settings table); never reads env or listens.
 */
export function createRateLimiter(config: LimiterConfig, deps: RateLimiterDeps = {}): RateLimiter {
  const v6 = deps.ipv6PrefixBits ?? 64;
  const now = deps.now ?? (() => performance.now());
  const onLimited = deps.onLimited;
  const stores: { ip?: MemoryStore; identity?: MemoryStore; tool?: MemoryStore } = {};
  const storeFor = (which: 'ip' | 'identity' | 'tool'): RateLimitStore => deps.store ?? (stores[which] = createMemoryStore({ maxKeys: config.rateLimitMaxKeys }));

  const callerKey = (ctx: RequestContext): string => (ctx.identity !== undefined && ctx.identity.kind !== 'none' ? ctx.identity.id : `ip:${ipKey(ctx.clientIp, v6)}`);

  /** Turn a take into a refusal, or record the pass in the response headers. */
  function decide(ctx: RequestContext, label: LimitLabel, policy: BucketPolicy, pItem: string, r: TakeResult): Reply | undefined {
    const lItem = limitItem(policy, r);
    if (!r.allowed) {
      onLimited?.(label);
      return tooManyRequests(label, pItem, lItem, seconds(r.resetMs));
    }
    const h = ctx.responseHeaders;
    appendItem(h, RATELIMIT_POLICY, pItem);
    appendItem(h, RATELIMIT, lItem);
    return undefined;
  }

  function bucketStage(label: 'ip' | 'identity', policy: BucketPolicy, keyOf: (ctx: RequestContext) => string): Stage {
    const store = storeFor(label);
    const pItem = policyItem(policy);
    return (ctx) => {
      const r = store.take(keyOf(ctx), policy, now());
      return isPromise(r) ? r.then((x) => decide(ctx, label, policy, pItem, x), unavailable) : decide(ctx, label, policy, pItem, r);
    };
  }

  const ipRate = config.rateLimitPerIpPerMinute;
  const ipStage = ipRate === undefined ? undefined : bucketStage('ip', bucketPolicy('ip', ipRate, defaultBurst(ipRate)), (ctx) => `ip:${ipKey(ctx.clientIp, v6)}`);

  const idRate = config.rateLimitPerMinute;
  const identityStage = idRate === undefined ? undefined : bucketStage('identity', bucketPolicy('identity', idRate, config.rateLimitBurst ?? defaultBurst(idRate)), (ctx) => `id:${callerKey(ctx)}`);

  const toolLimits = config.sections['rateLimit.tools'];
  let toolStage: Stage | undefined;
  if (toolLimits.size > 0) {
    const store = storeFor('tool');
    interface ToolEntry {
      readonly tool: string;
      readonly policy: BucketPolicy;
      readonly pItem: string;
      readonly order: number;
    }
    const policies = new Map<string, ToolEntry>();
    for (const [tool, l] of toolLimits) {
      const policy = bucketPolicy(`tool:${tool}`, l.perMinute, l.burst);
      policies.set(tool, { tool, policy, pItem: policyItem(policy), order: policies.size });
    }
    toolStage = (ctx) => {
      const rpc = ctx.rpc;
      if (rpc === undefined) return undefined;
      // Each limited tools/call costs a token: a batch of n calls to one tool costs n.
      let jobs: ToolEntry[] | undefined;
      for (const call of rpc) {
        const e = call.method === 'tools/call' && call.tool !== undefined ? policies.get(call.tool) : undefined;
        if (e !== undefined) (jobs ??= []).push(e);
      }
      if (jobs === undefined) return undefined;
      // Same tools together, so the last take of each reports that policy's headers once.
      if (jobs.length > 1) jobs.sort((a, b) => a.order - b.order);
      const list = jobs;
      const who = callerKey(ctx);
      // One take at a time, in order; the first refusal ends the request (earlier takes stay spent).
      const run = (i: number): Reply | undefined | Promise<Reply | undefined> => {
        for (; i < list.length; i++) {
          const e = list[i]!;
          const last = list[i + 1] !== e;
          const r = store.take(`tool:${e.tool}:${who}`, e.policy, now());
          if (isPromise(r)) {
            const at = i;
            return r.then((x) => (!x.allowed || last ? decide(ctx, 'tool', e.policy, e.pItem, x) : undefined) ?? run(at + 1), unavailable);
          }
          if (!r.allowed || last) {
            const reply = decide(ctx, 'tool', e.policy, e.pItem, r);
            if (reply !== undefined) return reply;
          }
        }
        return undefined;
      };
      return run(0);
    };
  }

  const maxStreams = config.maxStreamsPerIdentity;
  const streams = maxStreams === undefined ? undefined : createStreamLimiter({ max: maxStreams, keyOf: callerKey, ...(onLimited ? { onLimited } : {}) });

  return { ipStage, identityStage, toolStage, streams, stores };
}

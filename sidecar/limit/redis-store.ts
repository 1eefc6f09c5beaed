/**
 * The shared RateLimitStore on Redis: every replica's decisions on one bucket per key.
 *
 * One EVALSHA per decision runs token-bucket.ts's GCRA step inside Redis, so the read, the
 * decision and the write are one atomic operation (Redis runs a script alone) and replicas never
 * race on a read-modify-write. The script is the same arithmetic as takeToken, on the same IEEE
 * doubles (Lua numbers), so one policy means the same in both stores; a test drives both with the
 * same sequence and compares every answer.
 *
 * - Time is Redis's own `TIME`, read inside the script: every replica shares that one clock, while
 *   each process's monotonic clock starts at its own moment. The `now` the limiter passes is
 *   therefore ignored here (the fallback store uses it).
 * - Keys: `<prefix>{<hash>}`, the hash being 128 bits of SHA-256 of the limiter's key (`ip:...`,
 *   `id:...`, `tool:NAME:...`), so client addresses and identity ids never appear in Redis and
 *   every key has the same short length. SHA-256 rather than the memory store's keyed hash: the
 *   replicas must agree on the key without sharing a secret, and finding a collision with a chosen
 *   key is infeasible for SHA-256, which the keyed hash exists to prevent. The braces are a Redis
 *   Cluster hash tag: the slot is computed from the hash alone, so keys spread over the slots
 *   whatever the prefix (a prefix may not contain braces), and the script touches only that key.
 * - TTL: a key expires when its bucket would be full again (`tat`), and forgetting a full bucket is
 *   the same as keeping it, so idle keys cost Redis nothing and expiry never frees a token early.
 * - After a Redis restart the connection's handshake loads the script again (SCRIPT LOAD, see
 *   client.ts); a NOSCRIPT reply anyway (SCRIPT FLUSH, a failover to a replica that never saw the
 *   script) is answered by sending the script itself with EVAL, within the same deadline.
 */
import { createHash, hash } from 'node:crypto';
import { REDIS_ERR, RedisClientError, type RedisClient } from '../redis/client.ts';
import { RedisReplyError, type RespValue } from '../redis/resp.ts';
import type { RateLimitStore } from './store.ts';
import type { BucketPolicy, TakeResult } from './token-bucket.ts';

/**
 * token-bucket.ts's takeToken, line for line. KEYS[1] holds `tat` (ms, as %.17g so it reads back
 * as the same double); ARGV are the policy's intervalMs and toleranceMs. Returns
 * {allowed, remaining, resetMs, now}: floats as strings, because Redis turns Lua numbers into
 * integers. `now` is returned so callers can see the instant Redis decided at.
 */
export const TAKE_SCRIPT = `if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local T = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
local nxt = math.max(tat, now) + T
local debt = nxt - now
if debt > tau then
  return {0, 0, string.format('%.17g', debt - tau), string.format('%.17g', now)}
end
local remaining = math.max(0, math.floor((tau - debt) / T + 1e-9))
redis.call('SET', KEYS[1], string.format('%.17g', nxt), 'PX', string.format('%d', math.ceil(debt)))
return {1, remaining, string.format('%.17g', debt - tau + (remaining + 1) * T), string.format('%.17g', now)}
`;

/** SHA-1 of the script, as EVALSHA names it. */
export const TAKE_SCRIPT_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

/** The handshake command that (re)loads the script on every new connection. */
export const LOAD_SCRIPT: readonly string[] = Object.freeze(['SCRIPT', 'LOAD', TAKE_SCRIPT]);

/** A take as Redis answered it, with the Redis time (ms since the epoch) it was decided at. */
export interface RedisTakeResult extends TakeResult {
  readonly now: number;
}

/** A store that can tell, without I/O, whether asking it now would be pointless. */
export interface SharedStore extends RateLimitStore {
  /** False while the backend is known to be down: callers skip it rather than wait. */
  readonly available: boolean;
  take(key: string, policy: BucketPolicy, now: number): Promise<TakeResult>;
}

export interface RedisStore extends SharedStore {
  take(key: string, policy: BucketPolicy, now: number): Promise<RedisTakeResult>;
}

/** Why a take failed, for metrics: no answer in time, the connection broke, or Redis said no. */
export type RedisFailureKind = 'timeout' | 'connection' | 'reply';

export interface RedisStoreOptions {
  readonly client: RedisClient;
  /** Prepended to every key; no braces (see the module comment). */
  readonly prefix: string;
  /** Every failed take, once (the caller decides what the failure means). */
  readonly onError?: (kind: RedisFailureKind, err: Error) => void;
}

/** The Redis key of a limiter key. */
export function redisKey(prefix: string, key: string): string {
  return `${prefix}{${hash('sha256', key, 'base64url').slice(0, 22)}}`;
}

function toResult(v: RespValue): RedisTakeResult {
  if (!Array.isArray(v) || v.length !== 4) throw new RedisReplyError('ERR unexpected reply to the rate-limit script');
  const [allowed, remaining, resetMs, now] = v;
  return { allowed: allowed === 1, remaining: remaining as number, resetMs: Number(resetMs), now: Number(now) };
}

function kindOf(err: unknown): RedisFailureKind {
  if (err instanceof RedisClientError) return err.code === REDIS_ERR.TIMEOUT ? 'timeout' : 'connection';
  return 'reply';
}

export function createRedisStore(opts: RedisStoreOptions): RedisStore {
  const { client, prefix, onError } = opts;
  if (/[{}]/.test(prefix)) throw new RangeError(`prefix: got ${JSON.stringify(prefix)}; expected no braces (they would choose the Redis Cluster slot)`);
  return {
    get available() {
      return client.ready;
    },
    take(key, policy) {
      const k = redisKey(prefix, key);
      const T = String(policy.intervalMs);
      const tau = String(policy.toleranceMs);
      const deadline = performance.now() + client.commandTimeoutMs;
      const fail = (err: Error): never => {
        onError?.(kindOf(err), err);
        throw err;
      };
      return client.call(['EVALSHA', TAKE_SCRIPT_SHA, '1', k, T, tau], deadline).then(toResult, (err: Error) => {
        if (err instanceof RedisReplyError && err.code === 'NOSCRIPT') return client.call(['EVAL', TAKE_SCRIPT, '1', k, T, tau], deadline).then(toResult, fail);
        return fail(err);
      });
    },
  };
}

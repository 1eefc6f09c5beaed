/**
 * RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-11, the structured-field form)
 * and the 429 reply.
 *
 *   RateLimit-Policy: "identity";q=100;w=60;mcp-warden-burst=10
 *   RateLimit: "identity";r=9;t=1
 *
 * - Both fields are SF Lists (RFC 9651) of one Item per policy, named by an SF String. Every
 *   limit a request passed adds its item, so a response can carry `"ip"`, `"identity"` and
 *   `"tool:NAME"` side by side.
 * - Policy: `q` is the configured requests per minute, `w=60` its window (section 3.1). The bucket
 *   capacity has no standard parameter; it goes in the vendor-prefixed `mcp-warden-burst`, as
 *   section 3.1 asks of implementation-specific parameters. Stream limits use
 *   `qu="concurrent-requests"` and no window.
 * - RateLimit: `r` is the whole tokens left, `t` the seconds (rounded up) until one more token: the
 *   time within which the client can use no more than `r` (section 4.1.2). On a refusal `t` equals
 *   Retry-After, as section 6 requires (Retry-After never earlier than the window's end).
 * - Retry-After (RFC 9110 10.2.3): delay-seconds, rounded up so a client that waits exactly that
 *   long is never refused again for the same reason.
 * - No partition key (`pk`): it would echo identity hashes to whoever holds a response.
 *
 * Header names are lower case, as Node presents incoming ones.
 */
import { ERR } from '../errors.ts';
import type { Reply } from '../context.ts';
import type { BucketPolicy, TakeResult } from './token-bucket.ts';

/** Which limit refused a request (also the metrics label). */
export type LimitLabel = 'ip' | 'identity' | 'tool' | 'streams';

export const RATELIMIT = 'ratelimit';
export const RATELIMIT_POLICY = 'ratelimit-policy';
export const RETRY_AFTER = 'retry-after';

/** Whole seconds, rounded up, at least 1 for any positive delay. */
export function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/** The RateLimit-Policy item of a bucket policy. */
export function policyItem(p: BucketPolicy): string {
  return `"${p.name}";q=${p.perMinute};w=60;mcp-warden-burst=${p.burst}`;
}

/** The RateLimit item after a take. */
export function limitItem(p: BucketPolicy, r: TakeResult): string {
  return `"${p.name}";r=${r.remaining};t=${seconds(r.resetMs)}`;
}

/** Append an item to an SF List field in `headers` (RFC 9651 3.1: members joined by ", "). */
export function appendItem(headers: Record<string, string>, name: string, item: string): void {
  const had = headers[name];
  headers[name] = had === undefined || had === '' ? item : `${had}, ${item}`;
}

/** The fields one limit contributes to a response. */
export function limitHeaders(policy: string, limit: string): Record<string, string> {
  return { [RATELIMIT_POLICY]: policy, [RATELIMIT]: limit };
}

/**
 * The 429 reply. Its headers describe only the limit that refused; the edge writes
 * ctx.responseHeaders (limits passed earlier) and lets these override by name.
 */
export function tooManyRequests(label: LimitLabel, policy: string, limit: string, retryAfterS: number): Reply {
  const what = label === 'identity' ? 'this caller' : label === 'ip' ? 'this client address' : label === 'tool' ? 'this tool' : 'open streams of this caller';
  return {
    status: 429,
    code: ERR.RATE_LIMITED,
    headers: { ...limitHeaders(policy, limit), [RETRY_AFTER]: String(retryAfterS) },
    body: { error: 'Too Many Requests', message: `Rate limit exceeded for ${what}; retry after ${retryAfterS} s.` },
  };
}

/**
 * The 503 for a decision no store could make (a shared store down in `closed` mode, or any store
 * that rejects). 503, not 429: the client is not over its budget, the sidecar cannot tell. Retry-After
 * (RFC 9110 10.2.3) applies to 503 as well.
 */
export function limitUnavailable(retryAfterS: number): Reply {
  return {
    status: 503,
    code: ERR.RATE_LIMIT_UNAVAILABLE,
    headers: { [RETRY_AFTER]: String(retryAfterS) },
    body: { error: 'Service Unavailable', message: `Rate limits cannot be checked right now; retry after ${retryAfterS} s.` },
  };
}

/**
 * Concurrent open long-lived streams per identity (MCP_AUTH_MAX_STREAMS_PER_IDENTITY): a counter per
 * key with acquire/release. A long-lived stream holds a connection and an upstream socket for
 * minutes, so a token bucket (a rate) cannot bound it; a concurrency count does.
 *
 * What counts is what the upstream answers: an event stream in response to a GET or to a
 * 2026-07-28 `subscriptions/listen` (proxy/lanes.ts), whatever the request's Accept said. The slot
 * is taken when the response head arrives (a stream over the limit is refused with 429 and never
 * reaches the client); a request that would open one while the caller is already at the limit is
 * refused before it reaches the upstream. POSTs answered with SSE carry one request's response and
 * end with it; the request rate limits cover them.
 *
 * Memory: one Map entry per key with at least one open stream, deleted at zero, so it is bounded
 * by the number of open connections.
 */
import type { Reply, RequestContext, Stage } from '../context.ts';
import { isLongLivedResponse, opensLongLivedStream } from '../proxy/lanes.ts';
import { RATELIMIT, RATELIMIT_POLICY, appendItem, tooManyRequests, type LimitLabel } from './headers.ts';

/**
 * Retry-After for a refused stream. No clock says when another stream of the caller closes; a
 * few seconds keeps a reconnecting client (the MCP SDK retries GET streams) from spinning.
 */
export const STREAM_RETRY_AFTER_S = 5;

export interface StreamLimiter {
  /** Take a slot for `key`: an idempotent release function, or undefined when all are in use. */
  acquire(key: string): (() => void) | undefined;
  /** Open streams of `key`. */
  open(key: string): number;
  /** Open streams in total. */
  readonly total: number;
  /**
   * The pipeline stage (after the body is parsed): for requests that may open a long-lived stream,
   * refuse at once when the caller is at its limit, else add a response stage that takes a slot
   * keyed by `keyOf(ctx)` when the upstream answers with a stream (429 with limit `streams` when
   * none is left) and releases it from ctx.onDone (once, when the response ends or the client goes).
   */
  readonly stage: Stage;
}

export function createStreamLimiter(opts: { max: number; keyOf: (ctx: RequestContext) => string; onLimited?: (limit: LimitLabel) => void }): StreamLimiter {
  const { max, keyOf, onLimited } = opts;
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxStreamsPerIdentity: got ${String(max)}; expected a whole number >= 1`);
  const counts = new Map<string, number>();
  let total = 0;
  const policy = `"streams";q=${max};qu="concurrent-requests"`;

  function acquire(key: string): (() => void) | undefined {
    const n = counts.get(key) ?? 0;
    if (n >= max) return undefined;
    counts.set(key, n + 1);
    total++;
    let released = false;
    return () => {
      // Exactly once: finish and abort may both report the end of one response.
      if (released) return;
      released = true;
      total--;
      const left = (counts.get(key) ?? 1) - 1;
      if (left <= 0) counts.delete(key);
      else counts.set(key, left);
    };
  }

  const refuse = (): Reply => {
    onLimited?.('streams');
    return tooManyRequests('streams', policy, `"streams";r=0`, STREAM_RETRY_AFTER_S);
  };

  const stage: Stage = (ctx): Reply | undefined => {
    if (!opensLongLivedStream(ctx)) return undefined;
    const key = keyOf(ctx);
    if ((counts.get(key) ?? 0) >= max) return refuse();
    ctx.responseStages.push((head) => {
      if (!isLongLivedResponse(ctx, head)) return undefined;
      const release = acquire(key);
      if (release === undefined) return refuse();
      ctx.onDone.push(release);
      const h = ctx.responseHeaders;
      appendItem(h, RATELIMIT_POLICY, policy);
      appendItem(h, RATELIMIT, `"streams";r=${max - (counts.get(key) ?? 0)}`);
      return undefined;
    });
    return undefined;
  };

  return {
    acquire,
    open: (key) => counts.get(key) ?? 0,
    get total() {
      return total;
    },
    stage,
  };
}

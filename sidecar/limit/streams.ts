/**
 * Concurrent open SSE streams per identity (MCP_AUTH_MAX_STREAMS_PER_IDENTITY): a counter per key
 * with acquire/release. A long-lived GET stream holds a connection and an upstream socket for
 * minutes, so a token bucket (a rate) cannot bound it; a concurrency count does.
 *
 * A stream is a GET whose Accept names text/event-stream: the MCP Streamable HTTP transport's
 * server-to-client stream and the legacy `GET /sse`. POSTs answered with SSE carry one request's
 * response and end with it; the request rate limits cover them.
 *
 * Memory: one Map entry per key with at least one open stream, deleted at zero, so it is bounded
 * by the number of open connections.
 */
import type { Reply, RequestContext, Stage } from '../context.ts';
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
   * The pipeline stage: for stream-opening requests, acquire a slot keyed by `keyOf(ctx)` and
   * release it from ctx.onDone (called once when the response ends or the client goes away), or
   * answer 429 with limit `streams`.
   */
  readonly stage: Stage;
}

/** Whether a request opens a long-lived SSE stream. */
export function opensStream(ctx: Pick<RequestContext, 'method' | 'headers'>): boolean {
  if (ctx.method !== 'GET') return false;
  const accept = ctx.headers.accept;
  return accept !== undefined && accept.toLowerCase().includes('text/event-stream');
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

  const stage: Stage = (ctx): Reply | undefined => {
    if (!opensStream(ctx)) return undefined;
    const key = keyOf(ctx);
    const release = acquire(key);
    if (release === undefined) {
      onLimited?.('streams');
      return tooManyRequests('streams', policy, `"streams";r=0`, STREAM_RETRY_AFTER_S);
    }
    ctx.onDone.push(() => release());
    const h = ctx.responseHeaders;
    appendItem(h, RATELIMIT_POLICY, policy);
    appendItem(h, RATELIMIT, `"streams";r=${max - (counts.get(key) ?? 0)}`);
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

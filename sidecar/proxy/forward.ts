/**
 * Forwarding to the upstream MCP container with undici: one keep-alive pool, a bound on the wait for
 * response headers (per request), no bound on the body, and a concurrency cap per lane.
 *
 * Lanes. With `pipelining: 1` every request in flight holds one upstream connection until its
 * response ends, and an undici pool queues what it cannot place. Long-lived responses (a GET event
 * stream, a `subscriptions/listen` stream) last for minutes or hours, so a single capped pool lets
 * them starve everything else: 128 open streams made every later request, health checks included,
 * hang until the 504. So requests are counted per lane, each with its own cap:
 *
 *   ordinary  JSON-RPC POSTs and everything else (MCP_AUTH_UPSTREAM_MAX_REQUESTS)
 *   stream    requests that open long-lived streams (MCP_AUTH_UPSTREAM_MAX_STREAMS)
 *   exempt    the exempt health paths (a small fixed reserve, EXEMPT_LANE_SIZE)
 *
 * The pool's connection cap is the sum, so no request ever waits in undici's queue: a lane that is
 * full answers at once (the caller turns that into 503 with Retry-After), never by hanging.
 *
 * undici's default bodyTimeout (30 s between body chunks) would cut an SSE stream that idles for
 * minutes, which MCP servers do between notifications; a client that goes away aborts the upstream
 * request instead.
 */
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
// Deep imports keep the bundle small (see undici-lean.d.ts); the API is undici's own.
import Pool from 'undici/lib/dispatcher/pool.js';
import apiRequest from 'undici/lib/api/api-request.js';
import undiciErrors from 'undici/lib/core/errors.js';
import { ERR, type ErrorCode } from '../errors.ts';

export type Lane = 'ordinary' | 'stream' | 'exempt';

/** Concurrent requests reserved for the exempt health paths, whatever the other lanes hold. */
export const EXEMPT_LANE_SIZE = 8;

export interface ForwardRequest {
  readonly method: string;
  /** Path and query, exactly as received. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | Readable | undefined;
  /** Emits 'abort' when the client has gone (undici accepts an EventEmitter as a signal). */
  readonly signal: AbortSignal | EventEmitter;
  readonly lane: Lane;
  /** Wait for the response headers; 504 after. */
  readonly headersTimeoutMs: number;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /**
   * The body. It already has an error listener (an unread or discarded body can never crash the
   * process); a reader adds its own to learn about failures.
   */
  readonly body: Readable;
}

export type ForwardResult = { readonly ok: true; readonly response: UpstreamResponse } | { readonly ok: false; readonly busy: Lane; readonly limit: number };

export interface Forwarder {
  /** Rejects with undici's error when the upstream fails before answering (see classifyUpstreamError). */
  forward(req: ForwardRequest): Promise<ForwardResult>;
  /** Requests in flight in a lane. */
  inUse(lane: Lane): number;
  /** True while the ordinary lane is full: new ordinary requests are refused (readiness says so). */
  saturated(): boolean;
  close(): Promise<void>;
}

export interface ForwarderOptions {
  readonly upstreamUrl: string;
  readonly maxRequests: number;
  readonly maxStreams: number;
}

const noop = (): void => {};

/** Throw away a response body without reading it; safe to call twice, never throws or emits unhandled. */
export function discard(body: Readable): void {
  body.on('error', noop);
  body.destroy();
}

export function createForwarder(opts: ForwarderOptions): Forwarder {
  const caps: Record<Lane, number> = { ordinary: opts.maxRequests, stream: opts.maxStreams, exempt: EXEMPT_LANE_SIZE };
  const used: Record<Lane, number> = { ordinary: 0, stream: 0, exempt: 0 };
  const pool = new Pool(opts.upstreamUrl, {
    connections: caps.ordinary + caps.stream + caps.exempt,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
    // Never pipeline: one slow SSE response must not hold back the requests queued behind it.
    pipelining: 1,
  });
  return {
    async forward(req) {
      const lane = req.lane;
      if (used[lane] >= caps[lane]) return { ok: false, busy: lane, limit: caps[lane] };
      used[lane]++;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        used[lane]--;
      };
      let res;
      try {
        res = await apiRequest.call(pool, {
          method: req.method as 'GET',
          path: req.path,
          headers: req.headers,
          body: req.body ?? null,
          signal: req.signal,
          headersTimeout: req.headersTimeoutMs,
          // Redirects and retries are the client's business; the proxy is transparent.
        });
      } catch (err) {
        release();
        throw err;
      }
      const body = res.body;
      body.on('error', noop);
      // 'close' follows the end, an error and a destroy alike: the connection is free again.
      body.once('close', release);
      return { ok: true, response: { status: res.statusCode, headers: res.headers, body } };
    },
    inUse: (lane) => used[lane],
    saturated: () => used.ordinary >= caps.ordinary,
    async close() {
      await pool.close().catch(() => pool.destroy());
    },
  };
}

/** Why the upstream could not answer, as a status, a stable code and a metric label. */
export interface UpstreamFailure {
  readonly status: 502 | 504;
  readonly code: ErrorCode;
  readonly kind: 'refused' | 'reset' | 'timeout' | 'other';
  readonly message: string;
}

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const code = (err as { code?: string }).code;
  if (err instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return { status: 504, code: ERR.UPSTREAM_TIMEOUT, kind: 'timeout', message: 'The MCP server did not answer in time' };
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') {
    return { status: 502, code: ERR.UPSTREAM_UNAVAILABLE, kind: code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' ? 'refused' : 'reset', message: 'The MCP server is unavailable' };
  }
  return { status: 502, code: ERR.UPSTREAM_UNAVAILABLE, kind: 'other', message: 'The MCP server is unavailable' };
}

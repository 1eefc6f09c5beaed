/**
 * Forwarding to the upstream MCP container with undici: a keep-alive pool, a bound on the wait for
 * response headers, and no bound on the body. undici's default bodyTimeout (30 s between body
 * chunks) would cut an SSE stream that idles for minutes, which MCP servers do between
 * notifications; a client that goes away aborts the upstream request instead.
 */
import type { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
// Deep imports keep the bundle small (see undici-lean.d.ts); the API is undici's own.
import Pool from 'undici/lib/dispatcher/pool.js';
import apiRequest from 'undici/lib/api/api-request.js';
import undiciErrors from 'undici/lib/core/errors.js';
import { ERR, type ErrorCode } from '../errors.ts';

export interface ForwardRequest {
  readonly method: string;
  /** Path and query, exactly as received. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer | Readable | undefined;
  /** Emits 'abort' when the client has gone (undici accepts an EventEmitter as a signal). */
  readonly signal: AbortSignal | EventEmitter;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Readable;
}

export interface Forwarder {
  forward(req: ForwardRequest): Promise<UpstreamResponse>;
  close(): Promise<void>;
}

export function createForwarder(opts: { upstreamUrl: string; headersTimeoutMs: number; connections?: number }): Forwarder {
  const pool = new Pool(opts.upstreamUrl, {
    connections: opts.connections ?? 128,
    headersTimeout: opts.headersTimeoutMs,
    bodyTimeout: 0,
    keepAliveTimeout: 30_000,
    // Never pipeline: one slow SSE response must not hold back the requests queued behind it.
    pipelining: 1,
  });
  return {
    async forward(req) {
      const res = await apiRequest.call(pool, {
        method: req.method as 'GET',
        path: req.path,
        headers: req.headers,
        body: req.body ?? null,
        signal: req.signal,
        // Redirects and retries are the client's business; the proxy is transparent.
      });
      return { status: res.statusCode, headers: res.headers, body: res.body };
    },
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

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
 *
 * The response comes through undici's dispatch API straight to an UpstreamSink (edge/relay.ts):
 * the request API would wrap every response in a body stream, a promise and an async resource,
 * a few microseconds of CPU per request that a proxy does not need (see the README, "Benchmarks").
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
// Deep imports keep the bundle small (see undici-lean.d.ts); the API is undici's own.
import Pool from 'undici/lib/dispatcher/pool.js';
import undiciErrors from 'undici/lib/core/errors.js';
import type { Dispatcher } from 'undici';
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
  readonly lane: Lane;
  /** Wait for the response headers; 504 after. */
  readonly headersTimeoutMs: number;
}

/**
 * What receives the upstream's response, called by undici as it arrives (its dispatch API, with no
 * body stream, promise or async context in between). Exactly one of `end` and `error` ends it,
 * unless the exchange was aborted through UpstreamControl, after which nothing more is called.
 */
export interface UpstreamSink {
  /** Status and headers (lower-case names); 1xx interim responses are skipped. */
  head(status: number, headers: Record<string, string | string[]>): void;
  data(chunk: Buffer): void;
  end(): void;
  /** The upstream failed, before the head (see classifyUpstreamError) or after it. */
  error(err: Error): void;
}

/** The sink's hold on its exchange with the upstream. */
export interface UpstreamControl {
  /** Stop reading the upstream's body (backpressure) until resume(). */
  pause(): void;
  resume(): void;
  /** End the exchange now (the client left, a stage refused): the upstream connection is closed, and the sink hears no more. */
  abort(): void;
}

export type ForwardResult = { readonly ok: true; readonly control: UpstreamControl } | { readonly ok: false; readonly busy: Lane; readonly limit: number };

export interface Forwarder {
  /** Start a request; the response goes to `sink`. A full lane answers at once, and nothing is sent. */
  forward(req: ForwardRequest, sink: UpstreamSink): ForwardResult;
  /** True while the ordinary lane is full: new ordinary requests are refused (readiness says so). */
  saturated(): boolean;
  close(): Promise<void>;
}

export interface ForwarderOptions {
  readonly upstreamUrl: string;
  readonly maxRequests: number;
  readonly maxStreams: number;
}

const aborted = (): Error => new undiciErrors.RequestAbortedError();

/**
 * One request's undici handler and the sink's control over it. Its lane slot is held from dispatch
 * until the response ends, fails or is aborted, whichever comes first.
 */
class UpstreamExchange implements Dispatcher.DispatchHandler, UpstreamControl {
  readonly #sink: UpstreamSink;
  readonly #release: () => void;
  #controller: Dispatcher.DispatchController | undefined;
  #done = false;
  #abortedHere = false;

  constructor(sink: UpstreamSink, release: () => void) {
    this.#sink = sink;
    this.#release = release;
  }

  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#release();
    return true;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    // Aborted while the request waited for a connection.
    if (this.#abortedHere) controller.abort(aborted());
  }

  onResponseStart(controller: Dispatcher.DispatchController, status: number, headers: IncomingHttpHeaders): void {
    if (status < 200 || this.#done) return;
    this.#sink.head(status, headers as Record<string, string | string[]>);
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.#done) this.#sink.data(chunk);
  }

  onResponseEnd(): void {
    if (this.#finish()) this.#sink.end();
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, err: Error): void {
    if (this.#finish() && !this.#abortedHere) this.#sink.error(err);
  }

  pause(): void {
    if (!this.#done) this.#controller?.pause();
  }

  resume(): void {
    if (!this.#done) this.#controller?.resume();
  }

  abort(): void {
    if (this.#abortedHere) return;
    this.#abortedHere = true;
    if (this.#done) return;
    // undici then calls onResponseError, which releases the slot and tells the sink nothing. A
    // request not yet started is aborted when it starts (onRequestStart).
    if (this.#controller) this.#controller.abort(aborted());
    else this.#finish();
  }
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
    forward(req, sink) {
      const lane = req.lane;
      if (used[lane] >= caps[lane]) return { ok: false, busy: lane, limit: caps[lane] };
      used[lane]++;
      const exchange = new UpstreamExchange(sink, () => used[lane]--);
      // Redirects and retries are the client's business; the proxy is transparent. An invalid
      // request (a header undici refuses) comes back through onResponseError, like any failure.
      pool.dispatch(
        {
          method: req.method as Dispatcher.HttpMethod,
          path: req.path,
          headers: req.headers,
          body: req.body ?? null,
          headersTimeout: req.headersTimeoutMs,
        },
        exchange,
      );
      return { ok: true, control: exchange };
    },
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

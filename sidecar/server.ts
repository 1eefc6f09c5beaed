/**
 * createSidecar(config, deps): the public and admin listeners around the request pipeline. It never
 * reads the environment and listens only when asked (`listen()`), so tests build one per case on
 * port 0. Lifecycle: `drain()` is what SIGTERM does (readiness fails at once, listeners stop
 * accepting, long-lived GET streams end cleanly, in-flight requests get until the grace deadline).
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import type { Config } from './config.ts';
import { createRequestContext, type Reply, type RequestContext } from './context.ts';
import { AUTH_FAILURE_CODES, ERR } from './errors.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createAdminServer } from './admin.ts';
import { buildPipeline, type Pipeline } from './pipeline.ts';
import { parseTarget } from './paths.ts';
import { classifyUpstreamError, createForwarder } from './proxy/forward.ts';
import { clientResponseHeaders, upstreamRequestHeaders } from './proxy/headers.ts';
import { readRequestBody } from './proxy/body.ts';
import { bodyKind } from './proxy/media-type.ts';
import { authorizationFromRawHeaders } from './auth/jwt-bearer.ts';

export interface SidecarDeps {
  readonly logger: Logger;
  /** Audit lines, one per JSON-RPC request (default: the operational logger). */
  readonly audit?: Logger;
  readonly metrics?: Metrics;
  /** Clock in milliseconds for rate limits and caches (tests control it). */
  readonly now?: () => number;
  /** Time a client has to send its request headers before 408 (RFC 9110 15.5.9). */
  readonly clientHeadersTimeoutMs?: number;
}

export interface Sidecar {
  /** Start both listeners; resolves with the bound ports (useful with port 0). */
  listen(): Promise<{ port: number; adminPort: number }>;
  /** SIGTERM behaviour; resolves when every request has ended or the grace deadline passed. */
  drain(): Promise<void>;
  /** Stop at once (tests). */
  close(): Promise<void>;
  readonly metrics: Metrics;
  readonly draining: boolean;
}

/** RFC 9110 15.5.20: answer 431 above this much header data. */
export const MAX_HEADER_BYTES = 16 * 1024;
const DEFAULT_CLIENT_HEADERS_TIMEOUT_MS = 10_000;

const statusClass = (s: number): string => `${Math.floor(s / 100)}xx`;

/**
 * Count and time a response. prom-client hashes a label object on every call; its bound children
 * do not, so they are kept per (status class, method). Both are bounded: five classes, and the
 * methods Node's parser accepts.
 */
function responseRecorder(metrics: Metrics): (status: number, method: string, seconds: number) => void {
  const children = new Map<string, { count: { inc(): void }; time: { observe(v: number): void } }>();
  return (status, method, seconds) => {
    const cls = statusClass(status);
    const key = `${cls} ${method}`;
    let c = children.get(key);
    if (c === undefined) {
      c = { count: metrics.requests.labels(cls, method), time: metrics.duration.labels(cls) };
      children.set(key, c);
    }
    c.count.inc();
    c.time.observe(seconds);
  };
}

export function createSidecar(config: Config, deps: SidecarDeps): Sidecar {
  const log = deps.logger;
  const metrics = deps.metrics ?? createMetrics();
  const forwarder = createForwarder({ upstreamUrl: config.upstreamUrl, headersTimeoutMs: config.upstreamTimeoutMs });
  const upstreamHost = new URL(config.upstreamUrl).host;
  const pipeline: Pipeline = buildPipeline(config, { logger: log, audit: deps.audit ?? log, metrics, ...(deps.now ? { now: deps.now } : {}) });
  let draining = false;
  /** Every request in flight, with how to end it cleanly on drain (GET streams) or not (undefined). */
  const inflight = new Map<ServerResponse, (() => void) | undefined>();
  let idle: (() => void) | undefined;

  const headersTimeout = deps.clientHeadersTimeoutMs ?? DEFAULT_CLIENT_HEADERS_TIMEOUT_MS;
  const server: Server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout,
      // Node checks headersTimeout on this interval; the default (30 s) would make 408 arrive late.
      connectionsCheckingInterval: Math.min(1000, headersTimeout),
      // Bounds receiving a request, never the response: long SSE responses are unaffected.
      requestTimeout: Math.max(headersTimeout, 300_000),
      keepAliveTimeout: 5_000,
    },
    (req, res) => void handle(req, res),
  );
  // Malformed requests (smuggling shapes, bare LF, bad chunking, oversize headers): a status and close.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const text = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    const body = JSON.stringify({ error: text, message: status === 400 ? 'Malformed HTTP request' : text });
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    metrics.requests.inc({ class: statusClass(status), method: 'unknown' });
    log.info({ status, code: err.code }, 'malformed request refused');
  });
  const admin = createAdminServer({ metrics, isDraining: () => draining });
  const recordResponse = responseRecorder(metrics);

  function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply, ctxHeaders: Record<string, string>): void {
    const isObj = reply.body !== undefined && typeof reply.body !== 'string';
    const text = reply.body === undefined ? '' : isObj ? JSON.stringify(reply.body) : String(reply.body);
    const headers: Record<string, string | number> = { ...ctxHeaders, ...reply.headers };
    if (text !== '' && headers['content-type'] === undefined) headers['content-type'] = isObj ? 'application/json' : 'text/plain; charset=utf-8';
    headers['content-length'] = Buffer.byteLength(text);
    if (reply.close || draining) headers.connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(req.method === 'HEAD' ? undefined : text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    metrics.inflight.inc();
    inflight.set(res, undefined);
    let status = 0;
    let code: string = 'OK';
    const ctx = createRequestContext({ startedAt, method: req.method ?? 'GET', headers: req.headers, clientIp: pipeline.clientIp(req) });
    res.on('close', () => {
      metrics.inflight.dec();
      inflight.delete(res);
      const aborted = !res.writableFinished;
      for (const fn of ctx.onDone) {
        try {
          fn({ status, aborted });
        } catch (err) {
          log.error({ err }, 'onDone callback failed');
        }
      }
      if (log.isLevelEnabled('info')) {
        const ms = Math.round((performance.now() - startedAt) * 1000) / 1000;
        log.info({ method: ctx.method, path: ctx.path || '(invalid)', status, ms, id: ctx.identity?.id, ip: ctx.clientIp, code: code === 'OK' ? undefined : code, aborted: aborted || undefined, ...ctx.logFields }, 'request');
      }
      if (inflight.size === 0) idle?.();
    });
    const answer = (reply: Reply): void => {
      status = reply.status;
      code = reply.code;
      recordResponse(status, ctx.method, (performance.now() - startedAt) / 1000);
      if (AUTH_FAILURE_CODES.has(reply.code)) metrics.authFailures.inc({ reason: reply.code });
      writeReply(req, res, reply, ctx.responseHeaders);
    };

    try {
      const target = parseTarget(req.url ?? '');
      if (!target.ok) return answer({ status: 400, code: ERR.PATH_INVALID, body: { error: 'Bad Request', message: `Invalid request path: ${target.reason}` }, close: true });
      // Node keeps only the first of two Authorization headers; two credentials is an attack shape.
      // (req.headersDistinct would show it too, but builds arrays for every header on every request.)
      if (Array.isArray(authorizationFromRawHeaders(req.rawHeaders))) {
        return answer({ status: 400, code: ERR.BAD_REQUEST, body: { error: 'Bad Request', message: 'More than one Authorization header' }, close: true });
      }
      (ctx as { path: string }).path = target.path;
      (ctx as { search: string }).search = target.search;

      const refused = await pipeline.run(ctx);
      if (refused) return answer(refused);

      // Read (within the cap) or stream the request body.
      const body = await readRequestBody(req, ctx, config.maxBodyBytes);
      if (body.reply) return answer(body.reply);
      const afterBody = await pipeline.runAfterBody(ctx);
      if (afterBody) return answer(afterBody);

      await forward(req, res, ctx, body.stream, answer, (s) => {
        status = s;
      });
    } catch (err) {
      log.error({ err }, 'request handling failed');
      if (!res.headersSent) answer({ status: 500, code: ERR.INTERNAL, body: { error: 'Internal Server Error', message: 'The sidecar failed to handle the request' } });
      else res.destroy();
    }
  }

  async function forward(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, stream: Readable | undefined, answer: (r: Reply) => void, setStatus: (s: number) => void): Promise<void> {
    // A client that goes away aborts the upstream request (and the upstream sees the close).
    // undici takes an EventEmitter as its signal: lighter than an AbortController, whose
    // EventTarget cost about 9 us of CPU a request here.
    const abort = new EventEmitter();
    let aborted = false;
    const abortUpstream = (): void => {
      if (aborted) return;
      aborted = true;
      abort.emit('abort');
    };
    res.on('close', () => {
      if (!res.writableFinished) abortUpstream();
    });
    if (res.destroyed) return; // the client left while the request was read
    const headers = upstreamRequestHeaders(req.headers, {
      drop: ctx.dropHeaders,
      add: ctx.addHeaders,
      forwardedFor: pipeline.forwardedFor(req),
      proto: pipeline.forwardedProto(req),
      upstreamHost,
    });
    if (ctx.body !== undefined) {
      headers['content-length'] = String(ctx.body.length);
      delete headers['transfer-encoding'];
    }
    let upstream;
    try {
      upstream = await forwarder.forward({ method: ctx.method, path: ctx.path + ctx.search, headers, body: ctx.body ?? stream, signal: abort });
    } catch (err) {
      if (aborted) return; // the client left; nothing to answer
      if (isBodyTooLarge(err)) {
        return answer({ status: 413, code: ERR.BODY_TOO_LARGE, body: { error: 'Payload Too Large', message: `Request body exceeds ${config.maxBodyBytes} bytes` }, close: true });
      }
      const f = classifyUpstreamError(err);
      metrics.upstreamErrors.inc({ kind: f.kind });
      log.warn({ kind: f.kind, err: (err as Error).message }, 'upstream request failed');
      return answer({ status: f.status, code: f.code, body: { error: f.status === 504 ? 'Gateway Timeout' : 'Bad Gateway', message: f.message } });
    }

    const head = { status: upstream.status, headers: upstream.headers as Record<string, string | string[]> };
    const chain: Writable[] = [];
    for (const t of ctx.responseTransforms) {
      const out = t(head, ctx);
      if (out === undefined) continue;
      if (!('pipe' in out)) {
        upstream.body.destroy();
        return answer(out);
      }
      chain.push(out);
    }
    setStatus(head.status);
    recordResponse(head.status, ctx.method, (performance.now() - ctx.startedAt) / 1000);
    const outHeaders = { ...clientResponseHeaders(head.headers), ...ctx.responseHeaders };
    if (chain.length > 0) delete outHeaders['content-length'];
    if (draining) outHeaders.connection = 'close';
    res.writeHead(head.status, outHeaders);
    if (ctx.method === 'HEAD') {
      upstream.body.resume();
      res.end();
      return;
    }

    const isStream = bodyKind(head.headers['content-type']) === 'sse';
    if (isStream) {
      metrics.openStreams.inc();
      res.once('close', () => metrics.openStreams.dec());
    } else if (chain.length > 0) {
      // A rewritten body goes out chunked; for a small body, cork until the current turn of the
      // event loop is over so headers, body and the final chunk leave in one write, not two.
      // Never for event streams: each event must leave as soon as it is written.
      res.cork();
      setImmediate(() => res.uncork());
    }
    // Pipe by hand so a drain can end the chain cleanly (flushing what each stage has scanned).
    const source = upstream.body;
    let prev: Readable = source;
    const fail = (err: Error): void => {
      // Never flush what a stage has not processed: an error ends the response abruptly.
      log.warn({ err: err.message }, 'response stream failed');
      source.destroy();
      for (const s of chain) s.destroy();
      res.destroy();
    };
    source.on('error', (err) => {
      if (!aborted) fail(err);
    });
    for (const s of chain) {
      s.on('error', fail);
      prev.pipe(s);
      prev = s as unknown as Readable;
    }
    prev.pipe(res);
    if (isStream && ctx.method === 'GET') {
      // Long-lived server-to-client stream: on drain, end it cleanly; the client reconnects elsewhere.
      inflight.set(res, () => {
        const first = chain[0] ?? res;
        source.unpipe(first);
        first.end();
        abortUpstream();
      });
      if (draining) inflight.get(res)?.();
    }
  }

  let closed = false;
  return {
    metrics,
    get draining() {
      return draining;
    },
    async listen() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.listenPort, config.listenHost, () => resolve());
      });
      await new Promise<void>((resolve, reject) => {
        admin.once('error', reject);
        admin.listen(config.adminPort, config.adminHost, () => resolve());
      });
      return { port: (server.address() as AddressInfo).port, adminPort: (admin.address() as AddressInfo).port };
    },
    async drain() {
      if (draining) return;
      draining = true;
      log.info({ inflight: inflight.size, graceMs: config.shutdownGraceMs }, 'draining');
      server.close();
      server.closeIdleConnections();
      for (const end of inflight.values()) end?.();
      if (inflight.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, config.shutdownGraceMs);
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      if (inflight.size > 0) log.warn({ inflight: inflight.size }, 'grace period over; closing remaining connections');
      await this.close();
    },
    async close() {
      if (closed) return;
      closed = true;
      draining = true;
      server.closeAllConnections();
      server.close();
      admin.closeAllConnections();
      await new Promise<void>((resolve) => admin.close(() => resolve()));
      pipeline.close();
      await forwarder.close();
    },
  };
}

/** A streamed request body that passed the cap (proxy/body.ts), however undici wrapped it. */
function isBodyTooLarge(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (e.code === ERR.BODY_TOO_LARGE) return true;
  }
  return false;
}


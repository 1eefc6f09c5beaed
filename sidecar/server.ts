/**
 * createSidecar(config, deps): the public and admin listeners around the request pipeline. It never
 * reads the environment and listens only when asked (`listen()`), so tests build one per case on
 * port 0. Lifecycle: `drain()` is what SIGTERM does (readiness fails at once, listeners stop
 * accepting, long-lived streams end cleanly, in-flight requests get until the grace deadline).
 *
 * The edge lives in edge/: handle.ts (one request, in order), relay.ts (the upstream's response),
 * exchange.ts (what was answered), reply.ts (the sidecar's own responses), inflight.ts (draining),
 * malformed.ts (what Node's parser refuses).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from './config.ts';
import type { Logger, RequestLogger } from './log.ts';
import { createMetrics, createResponseRecorder, type Metrics } from './metrics.ts';
import { createAdminServer } from './admin.ts';
import { buildPipeline, type Pipeline } from './pipeline.ts';
import { createForwarder } from './proxy/forward.ts';
import { createHandler } from './edge/handle.ts';
import { createInflight } from './edge/inflight.ts';
import { createClientErrorHandler } from './edge/malformed.ts';

export interface SidecarDeps {
  readonly logger: Logger;
  /** The per-request line (createLoggers' `request`; default: `logger.info(fields, 'request')`). */
  readonly requestLog?: RequestLogger;
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

export function createSidecar(config: Config, deps: SidecarDeps): Sidecar {
  const log = deps.logger;
  const metrics = deps.metrics ?? createMetrics();
  const forwarder = createForwarder({ upstreamUrl: config.upstreamUrl, maxRequests: config.upstreamMaxRequests, maxStreams: config.upstreamMaxStreams });
  const pipeline: Pipeline = buildPipeline(config, { logger: log, audit: deps.audit ?? log, metrics, ...(deps.now ? { now: deps.now } : {}) });
  const inflight = createInflight();
  let draining = false;
  const handle = createHandler({
    config,
    pipeline,
    forwarder,
    metrics,
    log,
    requestLog: deps.requestLog ?? ((fields) => log.info(fields, 'request')),
    record: createResponseRecorder(metrics),
    inflight,
    isDraining: () => draining,
    upstreamHost: new URL(config.upstreamUrl).host,
  });

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
    (req, res) => handle(req, res, false),
  );
  // Answered by the edge once the request is authorized, instead of Node's automatic 100 Continue.
  server.on('checkContinue', (req, res) => handle(req, res, true));
  server.on('clientError', createClientErrorHandler({ metrics, log }));
  const admin = createAdminServer({ metrics, isDraining: () => draining, upstreamSaturated: () => forwarder.saturated() });

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
      await inflight.drain(config.shutdownGraceMs);
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

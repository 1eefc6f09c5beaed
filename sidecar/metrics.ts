/**
 * Every Prometheus metric the sidecar exports, defined in one place on a registry of its own (so
 * two sidecars in one test process never collide). prom-client is used rather than a hand-written
 * exposition format: it is the de-facto Node client and gets the text format and escaping right.
 * Modules do not import this: they take callbacks, and server.ts wires the callbacks to these.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mcp_warden_' });
  const m = {
    registry,
    requests: new Counter({ name: 'mcp_warden_requests_total', help: 'Requests answered, by status class and method.', labelNames: ['class', 'method'] as const, registers: [registry] }),
    duration: new Histogram({
      name: 'mcp_warden_request_duration_seconds',
      help: 'Time to response headers, by status class.',
      labelNames: ['class'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    authFailures: new Counter({ name: 'mcp_warden_auth_failures_total', help: 'Refused authentications, by reason (error code).', labelNames: ['reason'] as const, registers: [registry] }),
    jwtFailures: new Counter({ name: 'mcp_warden_jwt_failures_total', help: 'Rejected JWTs, by reason.', labelNames: ['reason'] as const, registers: [registry] }),
    upstreamErrors: new Counter({ name: 'mcp_warden_upstream_errors_total', help: 'Upstream failures, by kind (refused, reset, timeout, busy: a lane at its connection cap).', labelNames: ['kind'] as const, registers: [registry] }),
    rateLimited: new Counter({ name: 'mcp_warden_rate_limited_total', help: 'Requests refused with 429, by limit (identity, ip, tool, streams).', labelNames: ['limit'] as const, registers: [registry] }),
    toolCalls: new Counter({ name: 'mcp_warden_tool_calls_total', help: 'tools/call requests, by tool and decision.', labelNames: ['tool', 'decision'] as const, registers: [registry] }),
    redactions: new Counter({ name: 'mcp_warden_dlp_redactions_total', help: 'DLP matches, by rule and direction.', labelNames: ['rule', 'direction'] as const, registers: [registry] }),
    limitStoreUp: new Gauge({ name: 'mcp_warden_rate_limit_store_up', help: 'Whether the shared rate-limit store (Redis) answers: 1 up, 0 down or probing.', registers: [registry] }),
    limitStoreErrors: new Counter({ name: 'mcp_warden_rate_limit_store_errors_total', help: 'Failed shared-store decisions, by kind (timeout, connection, reply).', labelNames: ['kind'] as const, registers: [registry] }),
    limitStoreFallbacks: new Counter({
      name: 'mcp_warden_rate_limit_store_fallbacks_total',
      help: 'Decisions made without the shared store, by failure mode (local, open, closed) and reason (down: skipped, error: the take failed).',
      labelNames: ['mode', 'reason'] as const,
      registers: [registry],
    }),
    openStreams: new Gauge({ name: 'mcp_warden_open_streams', help: 'Open streaming responses (SSE).', registers: [registry] }),
    inflight: new Gauge({ name: 'mcp_warden_inflight_requests', help: 'Requests in flight.', registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

const statusClass = (s: number): string => `${Math.floor(s / 100)}xx`;

/**
 * Count and time a response. prom-client hashes a label object on every call; its bound children
 * do not, so they are kept per (status class, method). Both are bounded: five classes, and the
 * methods Node's parser accepts.
 */
export function createResponseRecorder(metrics: Metrics): (status: number, method: string, seconds: number) => void {
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

/**
 * Every Prometheus metric the sidecar exports, defined in one place on a registry of its own (so
 * two sidecars in one test process never collide). prom-client is used rather than a hand-written
 * exposition format: it is the de-facto Node client and gets the text format and escaping right.
 * Modules do not import this: they take callbacks, and server.ts wires the callbacks to these.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** Upper bounds of mcp_warden_request_duration_seconds, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The status class label of a status: `2xx`. */
const statusClass = (s: number): string => `${Math.floor(s / 100)}xx`;

/**
 * A histogram with one label, the status class, counted in plain arrays. prom-client's Histogram
 * validates and hashes its labels on every observation, even through a bound child; this is on
 * every request's path. It exports what a prom-client Histogram would: cumulative `_bucket` series
 * with `le`, then `_sum` and `_count`, per class (the registry formats it).
 */
export class ClassHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly labelNames = ['class'] as const;
  readonly #bounds: readonly number[];
  /** Per status/100 (0-9): counts per bucket (the last is +Inf only), sum, count. */
  readonly #series: ({ counts: number[]; sum: number; count: number } | undefined)[] = [];

  constructor(name: string, help: string, bounds: readonly number[], registry: Registry) {
    this.name = name;
    this.help = help;
    this.#bounds = bounds;
    registry.registerMetric(this as unknown as Metric);
  }

  /** One observation for a response with this status. */
  observe(status: number, seconds: number): void {
    const i = Math.min(9, Math.max(0, Math.floor(status / 100)));
    let s = this.#series[i];
    if (s === undefined) s = this.#series[i] = { counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0 };
    const b = this.#bounds;
    let k = 0;
    while (k < b.length && seconds > b[k]!) k++;
    s.counts[k]!++;
    s.sum += seconds;
    s.count++;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    this.#series.forEach((s, i) => {
      if (s === undefined) return;
      const cls = statusClass(i * 100);
      let acc = 0;
      this.#bounds.forEach((le, k) => {
        acc += s.counts[k]!;
        values.push({ labels: { le, class: cls }, value: acc, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', class: cls }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { class: cls }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { class: cls }, value: s.count, metricName: `${this.name}_count` });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.#series.length = 0;
  }
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  /** Run before mcp_warden_requests_total is read: counts kept outside prom-client are added. */
  const flushes: (() => void)[] = [];
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mcp_warden_' });
  const m = {
    registry,
    flushes,
    requests: new Counter({
      name: 'mcp_warden_requests_total',
      help: 'Requests answered, by status class and method.',
      labelNames: ['class', 'method'] as const,
      registers: [registry],
      collect() {
        for (const f of flushes) f();
      },
    }),
    duration: new ClassHistogram('mcp_warden_request_duration_seconds', 'Time to response headers, by status class.', DURATION_BUCKETS, registry),
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

/**
 * Count and time a response. The count is kept in plain numbers per (method, status class) and
 * added to mcp_warden_requests_total when it is scraped (prom-client hashes a label object on every
 * inc, even through a bound child); the time goes to the ClassHistogram. Both are bounded: ten
 * classes, and the methods Node's parser accepts.
 */
export function createResponseRecorder(metrics: Metrics): (status: number, method: string, seconds: number) => void {
  const pending = new Map<string, number[]>();
  metrics.flushes.push(() => {
    for (const [method, counts] of pending) {
      counts.forEach((n, i) => {
        if (n === 0) return;
        metrics.requests.inc({ class: statusClass(i * 100), method }, n);
        counts[i] = 0;
      });
    }
  });
  return (status, method, seconds) => {
    let counts = pending.get(method);
    if (counts === undefined) pending.set(method, (counts = new Array<number>(10).fill(0)));
    counts[Math.min(9, Math.max(0, Math.floor(status / 100)))]!++;
    metrics.duration.observe(status, seconds);
  };
}

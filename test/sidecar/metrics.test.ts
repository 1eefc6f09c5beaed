import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { ClassHistogram, createMetrics, createResponseRecorder, DURATION_BUCKETS } from '../../sidecar/metrics.ts';

const responses = fc.array(fc.tuple(fc.constantFrom(101, 200, 204, 301, 404, 429, 500, 503, 999), fc.constantFrom('GET', 'POST', 'DELETE'), fc.oneof(fc.double({ min: 0, max: 60, noNaN: true }), fc.constantFrom(...DURATION_BUCKETS))), { maxLength: 300 });

test('the response recorder exports exactly what prom-client metrics observed one by one would', async () => {
  await fc.assert(
    fc.asyncProperty(responses, async (rs) => {
      const lean = createMetrics({ defaultMetrics: false });
      const record = createResponseRecorder(lean);
      // The reference: prom-client's own Counter and Histogram, observed per response.
      const ref = new Registry();
      const count = new Counter({ name: 'mcp_warden_requests_total', help: 'Requests answered, by status class and method.', labelNames: ['class', 'method'], registers: [ref] });
      const time = new Histogram({ name: 'mcp_warden_request_duration_seconds', help: 'Time to response headers, by status class.', labelNames: ['class'], buckets: [...DURATION_BUCKETS], registers: [ref] });
      for (const [status, method, seconds] of rs) {
        record(status, method, seconds);
        const cls = `${Math.floor(status / 100)}xx`;
        count.inc({ class: cls, method });
        time.observe({ class: cls }, seconds);
      }
      const pick = (text: string): string[] => text.split('\n').filter((l) => /^mcp_warden_request(s_total|_duration_seconds)/.test(l)).sort();
      const got = pick(await lean.registry.metrics());
      const want = pick(await ref.metrics());
      assert.deepEqual(got, want);
      // A second scrape adds nothing twice.
      assert.deepEqual(pick(await lean.registry.metrics()), want);
    }),
    { numRuns: 200 },
  );
});

test('ClassHistogram: reset empties it, and the registry lists it with its HELP and TYPE', async () => {
  const registry = new Registry();
  const h = new ClassHistogram('x_seconds', 'Some help.', [0.1, 1], registry);
  h.observe(200, 0.5);
  const text = await registry.metrics();
  assert.match(text, /# HELP x_seconds Some help\.\n# TYPE x_seconds histogram\n/);
  assert.match(text, /x_seconds_bucket\{le="0\.1",class="2xx"\} 0\nx_seconds_bucket\{le="1",class="2xx"\} 1\nx_seconds_bucket\{le="\+Inf",class="2xx"\} 1\nx_seconds_sum\{class="2xx"\} 0\.5\nx_seconds_count\{class="2xx"\} 1/);
  registry.resetMetrics();
  assert.doesNotMatch(await registry.metrics(), /x_seconds_bucket/);
});

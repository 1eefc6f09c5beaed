/**
 * Redis faults under real sidecars, for each failure mode: Redis absent at start, killed and
 * restarted, stopped (SIGSTOP) for seconds. Each mode does what it says (local: per-sidecar
 * buckets, open: no limit, closed: 503 with Retry-After), no request waits for a stopped Redis
 * (every answer arrives while it is still SIGSTOPped, and the metrics show the decisions skipped
 * it), /readyz stays 200, and the shared buckets resume once Redis answers again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../../helpers/ports.ts';
import { startRedis, type RedisServer } from '../../helpers/redis.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { until } from '../../helpers/wait.ts';

const TIMEOUT_MS = 100;
const BURST = 3;
const MODES = ['local', 'open', 'closed'] as const;
type Mode = (typeof MODES)[number];

let upstream: Upstream;
const servers: RedisServer[] = [];
const running: RunningSidecar[] = [];
before(async () => {
  upstream = await startUpstream();
});
after(async () => {
  await Promise.all(running.map((s) => s.close()));
  await Promise.all([...servers.map((s) => s.stop()), upstream.close()]);
});

/** One sidecar per failure mode on the same Redis, each with its own key prefix. */
async function sidecars(url: string, fault: string): Promise<Record<Mode, RunningSidecar>> {
  const out = {} as Record<Mode, RunningSidecar>;
  for (const mode of MODES) {
    out[mode] = await startSidecar({
      MCP_AUTH_UPSTREAM_URL: upstream.url,
      MCP_AUTH_KEY: 'key-before,key-during',
      MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '1', // no refill while a test runs
      MCP_AUTH_RATE_LIMIT_BURST_SIZE: String(BURST),
      MCP_AUTH_RATE_LIMIT_REDIS_URL: url,
      MCP_AUTH_RATE_LIMIT_REDIS_PREFIX: `${fault}-${mode}:`,
      MCP_AUTH_RATE_LIMIT_REDIS_TIMEOUT_MS: String(TIMEOUT_MS),
      MCP_AUTH_RATE_LIMIT_REDIS_FAILURE: mode,
    });
    running.push(out[mode]);
  }
  return out;
}

async function metric(s: RunningSidecar, name: string): Promise<number> {
  const text = await (await fetch(`${s.adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const isUp = async (s: RunningSidecar): Promise<boolean> => (await metric(s, 'mcp_warden_rate_limit_store_up')) === 1;

interface Sent {
  readonly status: number;
  readonly retryAfter: string | null;
}

async function send(s: RunningSidecar, key: string, n: number): Promise<Sent[]> {
  const out: Sent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${s.url}/mcp`, { headers: { 'x-api-key': key } });
    await r.arrayBuffer();
    out.push({ status: r.status, retryAfter: r.headers.get('retry-after') });
  }
  return out;
}

/** What each mode must answer while Redis cannot: 8 requests on a bucket of 3. */
const EXPECTED: Record<Mode, number[]> = {
  local: [200, 200, 200, 429, 429, 429, 429, 429],
  open: [200, 200, 200, 200, 200, 200, 200, 200],
  closed: [503, 503, 503, 503, 503, 503, 503, 503],
};

/**
 * `stillStopped`, for a SIGSTOPped Redis: checked once the answers are in. A request that waited
 * for Redis could not have been answered before SIGCONT, so answers in hand while Redis is still
 * stopped show that none did, with no clock involved.
 */
async function duringOutage(all: Record<Mode, RunningSidecar>, stillStopped?: () => boolean): Promise<void> {
  for (const mode of MODES) {
    const s = all[mode];
    const fallbacksBefore = await metric(s, 'mcp_warden_rate_limit_store_fallbacks_total');
    const skipped = `mcp_warden_rate_limit_store_fallbacks_total{mode="${mode}",reason="down"}`;
    const skippedBefore = await metric(s, skipped);
    const sent = await send(s, 'key-during', 8);
    assert.deepEqual(sent.map((x) => x.status), EXPECTED[mode], `${mode} mode while Redis cannot answer`);
    if (stillStopped) assert.ok(stillStopped(), `${mode}: all 8 answers arrived while Redis was still stopped`);
    if (mode === 'closed') assert.deepEqual(new Set(sent.map((x) => x.retryAfter)), new Set(['1']));
    assert.equal((await metric(s, 'mcp_warden_rate_limit_store_fallbacks_total')) - fallbacksBefore, 8, `${mode}: every decision counted as a fallback`);
    // Known down after the first failure at most: the rest skip Redis without any I/O.
    assert.ok((await metric(s, skipped)) - skippedBefore >= 7, `${mode}: decisions skipped Redis while it was known down`);
    assert.ok(s.logs.some((l) => String(l.msg).startsWith('Redis rate-limit store unavailable')), `${mode}: the outage is logged`);
    assert.equal((await fetch(`${s.adminUrl}/readyz`)).status, 200, `${mode}: /readyz stays ready`);
    // Logged, but not once per request.
    const lines = s.logs.filter((l) => l.msg === 'rate-limit decision made without Redis');
    assert.ok(lines.length >= 1 && lines.length <= 2, `${mode}: ${lines.length} fallback log lines for 8 fallbacks`);
  }
}

/** Once Redis answers, decisions are Redis's again: no fallback, and the bucket is in Redis. */
async function afterRecovery(all: Record<Mode, RunningSidecar>, redis: RedisServer, fault: string, expected = [200, 200, 200, 429]): Promise<void> {
  for (const mode of MODES) {
    const s = all[mode];
    await until(() => isUp(s), `${mode}: the sidecar to reach Redis again`, 10_000);
    const fallbacks = await metric(s, 'mcp_warden_rate_limit_store_fallbacks_total');
    // key-during spent its local bucket in local mode; Redis has its own, full one.
    assert.deepEqual((await send(s, 'key-during', BURST + 1)).map((x) => x.status), expected, `${mode}: the shared bucket decides again`);
    assert.equal(await metric(s, 'mcp_warden_rate_limit_store_fallbacks_total'), fallbacks, `${mode}: no fallback once Redis is back`);
    assert.notEqual(await redis.cli('--scan', '--pattern', `${fault}-${mode}:*`), '', `${mode}: the bucket lives in Redis`);
  }
}

test('Redis absent at start: each failure mode holds, then shared buckets once Redis starts', async () => {
  const port = await freePort();
  const all = await sidecars(`redis://127.0.0.1:${port}`, 'absent');
  await duringOutage(all);
  const redis = await startRedis({ port });
  servers.push(redis);
  await afterRecovery(all, redis, 'absent');
});

test('Redis killed mid-run and restarted: each failure mode holds, then shared buckets again', async () => {
  const redis = await startRedis();
  servers.push(redis);
  const all = await sidecars(redis.url, 'killed');
  for (const mode of MODES) await until(() => isUp(all[mode]), `${mode}: the sidecar to reach Redis`);
  for (const mode of MODES) assert.deepEqual((await send(all[mode], 'key-before', BURST + 1)).map((x) => x.status), [200, 200, 200, 429]);
  await redis.kill();
  await duringOutage(all);
  await redis.restart();
  await afterRecovery(all, redis, 'killed');
});

test('Redis stopped (SIGSTOP) for seconds: no request waits it out; the buckets it held resume', async () => {
  const redis = await startRedis();
  servers.push(redis);
  const all = await sidecars(redis.url, 'stopped');
  for (const mode of MODES) await until(() => isUp(all[mode]), `${mode}: the sidecar to reach Redis`);
  for (const mode of MODES) assert.deepEqual((await send(all[mode], 'key-before', BURST + 1)).map((x) => x.status), [200, 200, 200, 429]);
  redis.pause();
  const stoppedAt = performance.now();
  try {
    await duringOutage(all, () => redis.paused());
    // Keep it stopped for a few seconds in all, past the probe timeout: reconnects must cope too.
    await sleep(Math.max(0, 3000 - (performance.now() - stoppedAt)));
    for (const mode of MODES) assert.equal((await send(all[mode], 'key-during', 1))[0]!.status, EXPECTED[mode].at(-1), `${mode}: still falling back after 3 s`);
    assert.ok(redis.paused(), 'Redis was stopped throughout');
  } finally {
    redis.resume();
  }
  // The one take sent before the client knew (it timed out) ran once Redis woke: its token is
  // spent in Redis too. Stricter, never looser.
  await afterRecovery(all, redis, 'stopped', [200, 200, 429, 429]);
  // The bucket drained before the stop is still drained: Redis kept it, and decides it again.
  for (const mode of MODES) assert.deepEqual((await send(all[mode], 'key-before', 1)).map((x) => x.status), [429], `${mode}: key-before's shared bucket survived`);
});

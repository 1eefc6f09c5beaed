/**
 * Two sidecars sharing one real Redis: the configured rate and burst hold for both together, for
 * every bucket limit (per IP, per identity, per tool); with the memory store each sidecar has its
 * own buckets and the two accept twice as much.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../../helpers/redis.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { until } from '../../helpers/wait.ts';

let redis: RedisServer;
let upstream: Upstream;
const running: RunningSidecar[] = [];
before(async () => {
  [redis, upstream] = await Promise.all([startRedis(), startUpstream()]);
});
after(async () => {
  await Promise.all(running.map((s) => s.close()));
  await Promise.all([redis.stop(), upstream.close()]);
});

const dir = mkdtempSync(join(tmpdir(), 'replicas-'));
const configFile = join(dir, 'config.yaml');
writeFileSync(configFile, 'rateLimit:\n  tools:\n    echo: { perMinute: 60, burst: 5 }\n');

/** Two sidecars with the same settings, as two replicas of one Deployment. */
async function pair(env: Record<string, string>, store: 'redis' | 'memory', prefix: string): Promise<RunningSidecar[]> {
  const shared = { MCP_AUTH_UPSTREAM_URL: upstream.url, MCP_AUTH_RATE_LIMIT_STORE: store, MCP_AUTH_RATE_LIMIT_REDIS_URL: redis.url, MCP_AUTH_RATE_LIMIT_REDIS_PREFIX: prefix, MCP_AUTH_RATE_LIMIT_REDIS_TIMEOUT_MS: '1000', ...env };
  const both = await Promise.all([startSidecar(shared), startSidecar(shared)]);
  running.push(...both);
  if (store === 'redis') {
    for (const s of both) await until(async () => (await (await fetch(`${s.adminUrl}/metrics`)).text()).includes('mcp_warden_rate_limit_store_up 1'), 'the sidecar to reach Redis');
  }
  return both;
}

const TOOL_CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } });

interface Kind {
  readonly name: string;
  readonly env: Record<string, string>;
  readonly perMinute: number;
  readonly burst: number;
  readonly request: RequestInit;
}

const KINDS: readonly Kind[] = [
  { name: 'per IP', env: { MCP_AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: '60' }, perMinute: 60, burst: 6, request: {} },
  { name: 'per identity', env: { MCP_AUTH_KEY: 'replica-key', MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '60', MCP_AUTH_RATE_LIMIT_BURST_SIZE: '8' }, perMinute: 60, burst: 8, request: { headers: { 'x-api-key': 'replica-key' } } },
  {
    name: 'per tool',
    env: { MCP_AUTH_CONFIG_FILE: configFile },
    perMinute: 60,
    burst: 5,
    request: { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: TOOL_CALL },
  },
];

/** Send `n` requests alternating between the sidecars; how many passed, and the seconds it took. */
async function alternate(sidecars: RunningSidecar[], n: number, init: RequestInit): Promise<{ passed: number; seconds: number; statuses: Set<number> }> {
  const t0 = performance.now();
  let passed = 0;
  const statuses = new Set<number>();
  for (let i = 0; i < n; i++) {
    const r = await fetch(`${sidecars[i % 2]!.url}/mcp`, init);
    await r.arrayBuffer();
    statuses.add(r.status);
    if (r.status === 200) passed++;
  }
  return { passed, seconds: (performance.now() - t0) / 1000, statuses };
}

for (const kind of KINDS) {
  test(`two sidecars on one Redis accept the configured burst in total, ${kind.name}; with memory stores, twice it`, async () => {
    const name = kind.name.replace(' ', '-');
    const shared = await pair(kind.env, 'redis', `replicas-${name}:`);
    const r = await alternate(shared, 4 * kind.burst, kind.request);
    assert.deepEqual([...r.statuses].sort(), [200, 429]);
    // The burst, plus whatever the rate refilled while the requests ran.
    const refill = Math.ceil((r.seconds * kind.perMinute) / 60);
    assert.ok(r.passed >= kind.burst && r.passed <= kind.burst + refill, `${r.passed} passed in ${r.seconds.toFixed(2)} s; burst ${kind.burst}, refill at most ${refill}`);

    const separate = await pair(kind.env, 'memory', `unused-${name}:`);
    const m = await alternate(separate, 4 * kind.burst, kind.request);
    assert.ok(m.passed >= 2 * kind.burst, `per-sidecar buckets: ${m.passed} passed, at least twice the burst of ${kind.burst}`);
  });
}

test('200 concurrent requests across both sidecars never overdraw the shared bucket', async () => {
  const both = await pair({ MCP_AUTH_KEY: 'crowd-key', MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '1', MCP_AUTH_RATE_LIMIT_BURST_SIZE: '50' }, 'redis', 'crowd:');
  const statuses = await Promise.all(
    Array.from({ length: 200 }, async (_, i) => {
      const r = await fetch(`${both[i % 2]!.url}/mcp`, { headers: { 'x-api-key': 'crowd-key' } });
      await r.arrayBuffer();
      return r.status;
    }),
  );
  assert.equal(statuses.filter((s) => s === 200).length, 50);
  assert.equal(statuses.filter((s) => s === 429).length, 150);
});

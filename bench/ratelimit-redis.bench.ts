/**
 * The shared Redis store against the memory store, in one run:
 *
 * 1. Through the sidecar bundle (dist/sidecar.mjs, API-key auth, a per-identity limit high enough
 *    never to refuse): latency p50/p99 at 1,000 req/s, each request timed from when it was due,
 *    and CPU per request of the sidecar process and of redis-server (utime+stime from
 *    /proc/PID/stat over the paced run). The baseline is the same sidecar with no rate limit.
 *    Three interleaved rounds, each figure the median: load generator, sidecar, upstream and
 *    Redis share two cores here.
 *    The Redis command timeout is 1 s here, not the default 50 ms: on a loaded machine a 50 ms
 *    stall trips the client into skipping Redis (by design), and then the figures would measure
 *    the memory fallback instead. The number of decisions that fell back is printed.
 * 2. One decision in-process (store.take through the failure-mode wrapper, 32 in flight): CPU per
 *    decision and per-decision latency, memory store against Redis store.
 *
 *   node bench/ratelimit-redis.bench.ts      (Node 24, redis-server installed; about a minute)
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFailoverStore } from '../sidecar/limit/failover-store.ts';
import { createMemoryStore } from '../sidecar/limit/memory-store.ts';
import { LOAD_SCRIPT, createRedisStore } from '../sidecar/limit/redis-store.ts';
import type { RateLimitStore } from '../sidecar/limit/store.ts';
import { bucketPolicy } from '../sidecar/limit/token-bucket.ts';
import { createRedisClient } from '../sidecar/redis/client.ts';
import { parseRedisUrl } from '../sidecar/redis/url.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { cpuMs, fixedRate, freePort, start, stop, table, waitListening } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'bench-key-0123456789';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATE = 1000;

const redis = await startRedis();
const upstreamPort = await freePort();
const upstream = start(process.execPath, ['-e', `require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json'});s.end('{"jsonrpc":"2.0","id":1,"result":{}}')}).listen(${upstreamPort},'127.0.0.1')`]);
await waitListening(upstreamPort, upstream);

async function startSidecar(env: Record<string, string>) {
  const port = await freePort();
  const adminPort = await freePort();
  const child = start(process.execPath, [join(root, 'dist', 'sidecar.mjs')], {
    MCP_AUTH_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
    MCP_AUTH_KEY: KEY,
    MCP_AUTH_LISTEN_HOST: '127.0.0.1',
    MCP_AUTH_LISTEN_PORT: String(port),
    MCP_AUTH_ADMIN_HOST: '127.0.0.1',
    MCP_AUTH_ADMIN_PORT: String(adminPort),
    MCP_AUTH_LOG_LEVEL: 'warn',
    ...env,
  });
  await waitListening(port, child);
  return { child, port, adminPort };
}

const LIMIT = { MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '10000000', MCP_AUTH_RATE_LIMIT_BURST_SIZE: '1000000' };
const targets = [
  { name: 'no rate limit (baseline)', ...(await startSidecar({})) },
  { name: 'per-identity limit, memory store', ...(await startSidecar(LIMIT)) },
  { name: 'per-identity limit, Redis store', ...(await startSidecar({ ...LIMIT, MCP_AUTH_RATE_LIMIT_REDIS_URL: redis.url, MCP_AUTH_RATE_LIMIT_REDIS_TIMEOUT_MS: '1000' })) },
];
const redisPid = redis.process.pid!;

interface Row {
  p50: number;
  p99: number;
  cpuUs: number;
  redisCpuUs: number;
  errors: number;
}
const ROUNDS = 3;
const rows = new Map<string, Row[]>(targets.map((t) => [t.name, []]));
const headers = { 'x-api-key': KEY };
// Warm-up: JIT, connection pools, the Redis connection and script.
for (const t of targets) await fixedRate({ url: `http://127.0.0.1:${t.port}/mcp`, headers, rate: RATE, seconds: 1 });
for (let round = 0; round < ROUNDS; round++) {
  for (const t of targets) {
    const c0 = cpuMs(t.child.pid!);
    const r0 = cpuMs(redisPid);
    const f = await fixedRate({ url: `http://127.0.0.1:${t.port}/mcp`, headers, rate: RATE, seconds: SECONDS });
    rows.get(t.name)!.push({
      p50: f.p50,
      p99: f.p99,
      cpuUs: ((cpuMs(t.child.pid!) - c0) / f.sent) * 1e3,
      redisCpuUs: ((cpuMs(redisPid) - r0) / f.sent) * 1e3,
      errors: f.errors,
    });
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const med = (name: string): Row => {
  const rs = rows.get(name)!;
  return { p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), cpuUs: median(rs.map((r) => r.cpuUs)), redisCpuUs: median(rs.map((r) => r.redisCpuUs)), errors: rs.reduce((a, r) => a + r.errors, 0) };
};
const fellBack = async (port: number): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('mcp_warden_rate_limit_store_fallbacks_total{')).reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
};
const base = med(targets[0]!.name);
const memory = med(targets[1]!.name);
console.log(`\n### Through the sidecar at ${RATE.toLocaleString('en')} req/s for ${SECONDS} s (median of ${ROUNDS} interleaved rounds, Node ${process.version})\n`);
console.log(
  table(
    ['target', 'p50 / p99 ms', 'added p50 / p99 ms vs baseline', 'sidecar CPU us/request', 'added CPU us vs memory store', 'redis-server CPU us/request', 'errors'],
    targets.map((t) => {
      const r = med(t.name);
      const added = t === targets[0] ? '-' : `${(r.p50 - base.p50).toFixed(3)} / ${(r.p99 - base.p99).toFixed(3)}`;
      const vsMemory = t === targets[2] ? `${r.cpuUs >= memory.cpuUs ? '+' : ''}${(r.cpuUs - memory.cpuUs).toFixed(0)}` : '-';
      return [t.name, `${r.p50.toFixed(3)} / ${r.p99.toFixed(3)}`, added, r.cpuUs.toFixed(0), vsMemory, r.redisCpuUs.toFixed(0), r.errors];
    }),
  ),
);
console.log(`\nRedis-store sidecar: ${await fellBack(targets[2]!.adminPort)} decisions fell back to memory.`);
for (const t of targets) await stop(t.child);
await stop(upstream);

// ---- 2. one decision, in-process ----
const N = 50_000;
const IN_FLIGHT = 32;
const policy = bucketPolicy('identity', 10_000_000, 1_000_000);
const client = createRedisClient({ target: parseRedisUrl(redis.url)!, commandTimeoutMs: 1000, probeTimeoutMs: 2000, init: [LOAD_SCRIPT] });
for (let i = 0; i < 200 && !client.ready; i++) await new Promise((r) => setTimeout(r, 10));
if (!client.ready) throw new Error('the bench client could not reach redis-server');
let fallbacks = 0;
const stores: [string, RateLimitStore][] = [
  ['memory store', createMemoryStore({ maxKeys: 100_000 })],
  ['Redis store (failure mode local)', createFailoverStore({ shared: createRedisStore({ client, prefix: 'bench:' }), mode: 'local', local: createMemoryStore({ maxKeys: 100_000 }), onFallback: () => void fallbacks++ })],
];

async function decisions(store: RateLimitStore, n: number): Promise<{ cpuUs: number; p50: number; p99: number }> {
  const lat: number[] = [];
  let next = 0;
  const c0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        await store.take(`id:key:${i % 1000}`, policy, t0);
        lat.push(performance.now() - t0);
      }
    }),
  );
  const c = process.cpuUsage(c0);
  lat.sort((a, b) => a - b);
  return { cpuUs: (c.user + c.system) / n, p50: lat[Math.floor(lat.length / 2)]!, p99: lat[Math.floor(lat.length * 0.99)]! };
}

const inProcess = new Map<string, { cpuUs: number; p50: number; p99: number }>();
for (const [, s] of stores) await decisions(s, 5000); // warm-up
for (let round = 0; round < 3; round++) {
  for (const [name, s] of stores) {
    const r = await decisions(s, N);
    const had = inProcess.get(name);
    if (had === undefined || r.cpuUs < had.cpuUs) inProcess.set(name, r);
  }
}
client.close();
console.log(`\n### One decision in-process, ${IN_FLIGHT} in flight (best of 3 rounds x ${N.toLocaleString('en')}; ${fallbacks} Redis decisions fell back to memory)\n`);
console.log(table(['store', 'CPU us/decision', 'p50 / p99 ms per decision'], stores.map(([name]) => {
  const r = inProcess.get(name)!;
  return [name, r.cpuUs.toFixed(2), `${r.p50.toFixed(3)} / ${r.p99.toFixed(3)}`];
})));
await redis.stop();

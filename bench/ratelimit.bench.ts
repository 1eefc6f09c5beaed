/**
 * Added latency per request of the rate-limit stages, against a no-op stage in the same run.
 *
 *   node bench/ratelimit.bench.ts            (Node 24; about 30 s)
 *
 * Each case runs the stage on a reused context (clientIp / identity set per op, response headers
 * reset per op, the same work in the baseline), in rounds interleaved across cases; the table shows
 * the median round. Numbers are ns per request on this machine, to compare rows, not machines.
 */
import type { Identity, Reply, RequestContext, Stage } from '../sidecar/context.ts';
import { makeContext } from '../test/helpers/context.ts';
import { clientIp, parseTrustedProxies } from '../sidecar/limit/client-ip.ts';
import { createRateLimiter, type LimiterConfig } from '../sidecar/limit/limiter.ts';
import { createMemoryStore } from '../sidecar/limit/memory-store.ts';
import { bucketPolicy } from '../sidecar/limit/token-bucket.ts';
import { parseToolLimits } from '../sidecar/limit/tool-limits.ts';

const ROUNDS = 7;
const OPS = 200_000;
const MAX_KEYS = 100_000;

let t = 1_000_000;
const now = () => t;

function config(o: Partial<LimiterConfig>): LimiterConfig {
  return {
    rateLimitPerMinute: undefined,
    rateLimitBurst: undefined,
    rateLimitPerIpPerMinute: undefined,
    rateLimitMaxKeys: MAX_KEYS,
    maxStreamsPerIdentity: undefined,
    sections: { 'rateLimit.tools': parseToolLimits({ run: 6_000_000 }, 'bench').value },
    ...o,
  };
}

function ctx(): RequestContext {
  return makeContext({ rpc: [{ id: 1, method: 'tools/call', tool: 'run' }] });
}

const ips = Array.from({ length: 1_000_000 }, (_, i) => `${10 + (i >>> 24)}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`);
const ids: Identity[] = Array.from({ length: 1000 }, (_, i) => ({ kind: 'apikey', id: `key:${i.toString(16).padStart(12, '0')}`, groups: [], scopes: [] }));

interface Case {
  name: string;
  /** Run n ops starting at op index i0. */
  run(i0: number, n: number): unknown;
}

/** A stage over a reused ctx; `keys` picks the client IP per op; `tick` advances the clock per op. */
function stageCase(name: string, stage: Stage, keys: number, tick = 0): Case {
  const c = ctx();
  c.identity = ids[0];
  return {
    name,
    run(i0, n) {
      let sink: Reply | undefined | Promise<Reply | undefined>;
      for (let i = i0; i < i0 + n; i++) {
        c.clientIp = ips[i % keys]!;
        (c as { responseHeaders: Record<string, string> }).responseHeaders = {};
        t += tick;
        sink = stage(c);
      }
      return sink;
    },
  };
}

const baseline: Stage = (c) => (c.clientIp === '' ? { status: 500, code: 'OK' } : undefined);
// Rates high enough that hot keys are not refused (a refusal is cheaper than a pass).
const hot = createRateLimiter(config({ rateLimitPerIpPerMinute: 10_000_000, rateLimitPerMinute: 10_000_000 }), { now });
const distinct = createRateLimiter(config({ rateLimitPerIpPerMinute: 600 }), { now });
const evicting = createRateLimiter(config({ rateLimitPerIpPerMinute: 600 }), { now });
const flood = createRateLimiter(config({ rateLimitPerIpPerMinute: 600 }), { now });
const store = createMemoryStore({ maxKeys: MAX_KEYS });
const policy = bucketPolicy('identity', 10_000_000, 1_000_000);
const trusted = parseTrustedProxies(['10.0.0.0/8']);

const cases: Case[] = [
  stageCase('baseline: no-op stage', baseline, 1),
  stageCase('ipStage, one hot IP', hot.ipStage!, 1),
  stageCase('identityStage, one hot identity', hot.identityStage!, 1),
  stageCase('toolStage, one tools/call, hot', hot.toolStage!, 1),
  stageCase(`ipStage, ${MAX_KEYS / 1000}k distinct IPs (all tracked)`, distinct.ipStage!, MAX_KEYS),
  // 1 ms per op at 600/min (burst 60, 100 ms a token): the LRU tail is full again, so evictable.
  stageCase(`ipStage, 1M distinct IPs at maxKeys, evicting`, evicting.ipStage!, 1_000_000, 1),
  stageCase(`ipStage, 1M distinct IPs at maxKeys, flood (overflow bucket)`, flood.ipStage!, 1_000_000, 0),
  {
    name: 'store.take() alone, hot key',
    run(i0, n) {
      let s;
      for (let i = i0; i < i0 + n; i++) s = store.take('id:key:000000000000', policy, t);
      return s;
    },
  },
  {
    name: 'clientIp(), trusted proxy, 2 XFF hops',
    run(i0, n) {
      let s = '';
      for (let i = i0; i < i0 + n; i++) s = clientIp('10.0.0.1', `${ips[i % 1000]}, 10.1.2.3`, trusted);
      return s;
    },
  },
];

// Fill the table of the eviction case to maxKeys first, at the flood's instant for the flood case.
evicting.ipStage!({ ...ctx(), clientIp: '0.0.0.0' });
cases[5]!.run(0, MAX_KEYS);
cases[6]!.run(0, MAX_KEYS);

const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
let op = MAX_KEYS;
for (const c of cases) c.run(op, 20_000); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const c of cases) {
    const start = process.hrtime.bigint();
    c.run(op, OPS);
    samples.get(c.name)!.push(Number(process.hrtime.bigint() - start) / OPS);
  }
  op += OPS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(samples.get(cases[0]!.name)!);
console.log(`\n### Rate-limit stages: ns per request (median of ${ROUNDS} rounds x ${OPS.toLocaleString('en')} ops, Node ${process.version})\n`);
console.log('| case | ns/op | added vs baseline |');
console.log('|---|---:|---:|');
for (const c of cases) {
  const m = median(samples.get(c.name)!);
  console.log(`| ${c.name} | ${m.toFixed(0)} | ${c === cases[0] ? '-' : `+${(m - base).toFixed(0)}`} |`);
}
console.log(`\nevicting case: ${evicting.stores.ip!.size.toLocaleString('en')} keys tracked, ${evicting.stores.ip!.overflowTakes} overflow takes; flood case: ${flood.stores.ip!.overflowTakes.toLocaleString('en')} overflow takes.`);

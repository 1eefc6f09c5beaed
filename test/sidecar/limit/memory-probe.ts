/**
 * Run by memory.test.ts as `node --expose-gc memory-probe.ts`: sends a million distinct client IPs
 * and a million distinct identities through the limiter with the default maxKeys and prints the
 * heap + ArrayBuffer growth after GC as JSON. A child process keeps the test runner's own heap
 * out of the measurement.
 */
import { createRateLimiter } from '../../../sidecar/limit/limiter.ts';
import { storeBytes } from '../../../sidecar/limit/memory-store.ts';
import { apiKey, limiterConfig, makeCtx } from './helpers.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const KEYS = 1_000_000;
const used = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const before = used();
let t = 0;
const rl = createRateLimiter(limiterConfig({ rateLimitPerIpPerMinute: 60, rateLimitPerMinute: 60 }), { now: () => t });
const ipOf = (i: number) => `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.${(i >>> 24) + 1}`;
let refused = 0;
// Phase 1: a flood at one instant (nothing is evictable: the overflow buckets take the excess).
// Phase 2: the clock moves 1 ms per key (entries become full, hence evictable, after 1 s).
for (let i = 0; i < KEYS; i++) {
  if (i >= KEYS / 2) t += 1;
  const ctx = makeCtx({ ip: ipOf(i), identity: apiKey(`k${i}`) });
  if (rl.ipStage!(ctx) !== undefined) refused++;
  if (rl.identityStage!(ctx) !== undefined) refused++;
}
const after = used();
process.stdout.write(
  JSON.stringify({
    deltaBytes: after - before,
    tableBytes: storeBytes(100_000) * 2,
    ipSize: rl.stores.ip!.size,
    idSize: rl.stores.identity!.size,
    overflowTakes: rl.stores.ip!.overflowTakes + rl.stores.identity!.overflowTakes,
    refused,
  }) + '\n',
);

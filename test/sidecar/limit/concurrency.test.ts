import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRateLimiter } from '../../../sidecar/limit/limiter.ts';
import { createMemoryStore } from '../../../sidecar/limit/memory-store.ts';
import type { RateLimitStore } from '../../../sidecar/limit/store.ts';
import { takeToken } from '../../../sidecar/limit/token-bucket.ts';
import { apiKey, clock, limiterConfig, makeCtx, run } from './helpers.ts';

const N = 200;

/** An atomic async store: the take happens at one instant, the answer arrives after a random delay. */
function slowStore(): RateLimitStore {
  const inner = createMemoryStore({ maxKeys: 1000 });
  return {
    async take(key, policy, now) {
      await sleep(Math.floor(Math.random() * 3));
      const r = inner.take(key, policy, now);
      await sleep(Math.floor(Math.random() * 3));
      return r;
    },
  };
}

/** A store that reads, awaits, then writes: what a naive GET-then-SET store would do. */
function racyStore(): RateLimitStore {
  const tats = new Map<string, number>();
  return {
    async take(key, policy, now) {
      const tat = tats.get(key) ?? now;
      await sleep(1);
      const s = takeToken(tat, policy, now);
      tats.set(key, s.tat);
      return s;
    },
  };
}

async function burstOf(store: RateLimitStore | undefined): Promise<number> {
  const c = clock();
  const rl = createRateLimiter(limiterConfig({ rateLimitPerMinute: 600, rateLimitBurst: 25 }), { now: c.now, ...(store ? { store } : {}) });
  const replies = await Promise.all(Array.from({ length: N }, () => run(rl.identityStage, makeCtx({ identity: apiKey('same') }))));
  for (const r of replies) if (r !== undefined) assert.equal(r.status, 429);
  return replies.filter((r) => r === undefined).length;
}

test(`${N} concurrent requests on one bucket: exactly burst pass (memory store)`, async () => {
  assert.equal(await burstOf(undefined), 25);
});

test(`${N} concurrent requests on one bucket: exactly burst pass (async store)`, async () => {
  assert.equal(await burstOf(slowStore()), 25);
});

test('the concurrency check can fail: a read-await-write store overdraws', async () => {
  assert.ok((await burstOf(racyStore())) > 25, 'the racy store lets more than the burst through');
});

test('concurrent tool batches on an async store never overdraw the tool bucket', async () => {
  const c = clock();
  const inner = slowStore();
  let granted = 0;
  const counting: RateLimitStore = {
    async take(key, policy, now) {
      const r = await inner.take(key, policy, now);
      if (r.allowed) granted++;
      return r;
    },
  };
  const rl = createRateLimiter(limiterConfig({ tools: { run: { perMinute: 60, burst: 7 } } }), { now: c.now, store: counting });
  const call = { id: 1, method: 'tools/call', tool: 'run' };
  const replies = await Promise.all(Array.from({ length: 40 }, () => run(rl.toolStage, makeCtx({ identity: apiKey('t'), rpc: [call, { ...call, id: 2 }] }))));
  const passed = replies.filter((r) => r === undefined).length;
  assert.equal(granted, 7, 'exactly the burst of tokens is handed out');
  // Each passing request needed 2 tokens; a refused one may have spent its first.
  assert.ok(passed <= 3, `passed ${passed}`);
});

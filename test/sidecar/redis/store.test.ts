/**
 * The Redis store against a real redis-server: the same token-bucket decisions as the memory store,
 * one atomic script per decision, Redis's clock, hashed keys with a Cluster hash tag, TTLs, and the
 * script sent again after NOSCRIPT.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryStore } from '../../../sidecar/limit/memory-store.ts';
import { LOAD_SCRIPT, TAKE_SCRIPT_SHA, createRedisStore, redisKey, type RedisStore } from '../../../sidecar/limit/redis-store.ts';
import type { RateLimitStore } from '../../../sidecar/limit/store.ts';
import { bucketPolicy, takeToken } from '../../../sidecar/limit/token-bucket.ts';
import { createRedisClient, type RedisClient } from '../../../sidecar/redis/client.ts';
import { parseRedisUrl } from '../../../sidecar/redis/url.ts';
import { startRedis, type RedisServer } from '../../helpers/redis.ts';
import { until } from '../../helpers/wait.ts';
import { prng } from '../../helpers/prng.ts';

let redis: RedisServer;
const clients: RedisClient[] = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of clients) c.close();
  await redis.stop();
});

async function store(prefix: string, onError?: (kind: string) => void): Promise<{ store: RedisStore; client: RedisClient }> {
  const client = createRedisClient({ target: parseRedisUrl(redis.url)!, commandTimeoutMs: 1000, probeTimeoutMs: 2000, init: [LOAD_SCRIPT] });
  clients.push(client);
  await until(() => client.ready, 'the client to connect');
  return { store: createRedisStore({ client, prefix, ...(onError ? { onError } : {}) }), client };
}

test('the Redis script and the memory store give the same answer to every take of the same sequence', async () => {
  const { store: shared } = await store('same:');
  const memory = createMemoryStore({ maxKeys: 100 });
  // Rates from one a minute to 6M a minute (a token every 10 us, so the gaps between calls refill),
  // intervals such as 60000/7 ms that do not divide evenly, bursts from 1 to 10.
  const policies = [
    bucketPolicy('identity', 6_000_000, 10),
    bucketPolicy('ip', 1_200_000, 3),
    bucketPolicy('tool:a', 420_000, 7),
    bucketPolicy('tool:b', 7, 2),
    bucketPolicy('tool:c', 1, 1),
  ];
  const random = prng(13);
  const seen = { allowed: 0, refused: 0 };
  for (let i = 0; i < 400; i++) {
    const k = Math.floor(random() * policies.length);
    const key = `id:key:${k}`;
    const policy = policies[k]!;
    const r = await shared.take(key, policy, 0);
    // The memory store, given the instant Redis decided at, must say exactly the same.
    const m = memory.take(key, policy, r.now);
    assert.deepEqual({ allowed: r.allowed, remaining: r.remaining, resetMs: r.resetMs }, { allowed: m.allowed, remaining: m.remaining, resetMs: m.resetMs }, `take ${i} on ${key} (${policy.perMinute}/min, burst ${policy.burst}) at ${r.now}`);
    seen[r.allowed ? 'allowed' : 'refused']++;
    if (random() < 0.05) await sleep(1);
  }
  assert.ok(seen.allowed > 20 && seen.refused > 20, `the sequence exercises both answers: ${JSON.stringify(seen)}`);

  // Every rate whose interval does not divide a minute evenly, drained from full: the whole-token
  // counts must agree where floating point lands a hair below an integer.
  for (const perMinute of [7, 9, 11, 13, 70, 700]) {
    for (let burst = 1; burst <= 10; burst++) {
      const policy = bucketPolicy('ip', perMinute, burst);
      const key = `ip:grid-${perMinute}-${burst}`;
      for (let i = 0; i <= burst; i++) {
        const r = await shared.take(key, policy, 0);
        const m = memory.take(key, policy, r.now);
        assert.deepEqual([r.allowed, r.remaining, r.resetMs], [m.allowed, m.remaining, m.resetMs], `${perMinute}/min burst ${burst}, take ${i}`);
      }
    }
  }
});

test('keys are <prefix>{hash}: a Cluster hash tag around 128 bits of SHA-256, never the raw key', async () => {
  const { store: s } = await store('keys:');
  await s.take('ip:192.0.2.7', bucketPolicy('ip', 60, 5), 0);
  const keys = (await redis.cli('--scan', '--pattern', 'keys:*')).split('\n');
  assert.deepEqual(keys, [redisKey('keys:', 'ip:192.0.2.7')]);
  assert.match(keys[0]!, /^keys:\{[A-Za-z0-9_-]{22}\}$/);
  assert.ok(!keys[0]!.includes('192.0.2.7'));
  assert.notEqual(redisKey('keys:', 'ip:192.0.2.7'), redisKey('keys:', 'ip:192.0.2.8'));
  assert.throws(() => createRedisStore({ client: clients[0]!, prefix: 'a{b}:' }), /no braces/);
});

test('a key lives until its bucket is full again, then expires', async () => {
  const { store: s } = await store('ttl:');
  const slow = bucketPolicy('identity', 60, 5); // a token a second
  await s.take('id:slow', slow, 0);
  await s.take('id:slow', slow, 0);
  const pttl = Number(await redis.cli('PTTL', redisKey('ttl:', 'id:slow')));
  // Two tokens spent: full again in two seconds, and the key expires then.
  assert.ok(pttl > 1000 && pttl <= 2000, `PTTL ${pttl} ms`);

  const fast = bucketPolicy('identity', 600_000, 1); // full again after 0.1 ms
  await s.take('id:fast', fast, 0);
  await until(async () => (await redis.cli('EXISTS', redisKey('ttl:', 'id:fast'))) === '0', 'the idle key to expire', 2000);
});

test("time is Redis's: replicas whose clocks disagree still share one bucket", async () => {
  const a = (await store('clock:')).store;
  const b = (await store('clock:')).store;
  const policy = bucketPolicy('identity', 1, 4);
  const answers: boolean[] = [];
  // Process clocks a day apart, as two replicas started at different moments would pass.
  for (let i = 0; i < 8; i++) answers.push((await (i % 2 ? a.take('id:x', policy, 86_400_000 * i) : b.take('id:x', policy, 5))).allowed);
  assert.deepEqual(answers, [true, true, true, true, false, false, false, false]);
});

test('after SCRIPT FLUSH the decision still succeeds: NOSCRIPT sends the script itself', async () => {
  const errors: string[] = [];
  const { store: s } = await store('flush:', (k) => errors.push(k));
  const policy = bucketPolicy('identity', 60, 2);
  assert.equal((await s.take('id:f', policy, 0)).remaining, 1);
  await redis.cli('SCRIPT', 'FLUSH');
  assert.equal(await redis.cli('SCRIPT', 'EXISTS', TAKE_SCRIPT_SHA), '0');
  assert.equal((await s.take('id:f', policy, 0)).remaining, 0);
  assert.equal(await redis.cli('SCRIPT', 'EXISTS', TAKE_SCRIPT_SHA), '1');
  assert.deepEqual(errors, []);
});

/** What a store that reads, then writes, would do: two commands and a race between replicas. */
function getThenSet(client: RedisClient, prefix: string): RateLimitStore {
  return {
    async take(key, policy) {
      const k = redisKey(prefix, key);
      const [sec, usec] = (await client.call(['TIME'])) as string[];
      const now = Number(sec) * 1000 + Number(usec) / 1000;
      const raw = await client.call(['GET', k]);
      const step = takeToken(raw === null ? now : Number(raw), policy, now);
      if (step.allowed) await client.call(['SET', k, String(step.tat)]);
      return step;
    },
  };
}

async function concurrentPasses(stores: RateLimitStore[], key: string): Promise<number> {
  const policy = bucketPolicy('identity', 1, 50);
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => stores[i % stores.length]!.take(key, policy, 0)));
  return results.filter((r) => r.allowed).length;
}

test('200 concurrent decisions over two connections never overdraw a bucket of 50', async () => {
  const a = await store('race:');
  const b = await store('race:');
  assert.equal(await concurrentPasses([a.store, b.store], 'id:shared'), 50);
  // The check can fail: GET then SET from two connections lets more through.
  assert.ok((await concurrentPasses([getThenSet(a.client, 'racy:'), getThenSet(b.client, 'racy:')], 'id:shared')) > 50);
});

test('an ACL user allowed only the commands the README names, on the prefix, can decide', async () => {
  const acl = await startRedis({ args: ['--user', 'limiter', 'on', '>limiter-pw', '~mcp-warden:*', '+evalsha', '+eval', '+script|load', '+ping', '+time', '+get', '+set'] });
  try {
    const client = createRedisClient({ target: parseRedisUrl(`redis://limiter@127.0.0.1:${acl.port}`)!, password: () => 'limiter-pw', commandTimeoutMs: 1000, probeTimeoutMs: 2000, init: [LOAD_SCRIPT] });
    clients.push(client);
    await until(() => client.ready, 'the ACL user to connect and load the script');
    const s = createRedisStore({ client, prefix: 'mcp-warden:' });
    assert.equal((await s.take('id:acl', bucketPolicy('identity', 60, 2), 0)).remaining, 1);
    // Outside the prefix the same user is refused: the rule above is the whole grant.
    await assert.rejects(createRedisStore({ client, prefix: 'other:' }).take('id:acl', bucketPolicy('identity', 60, 2), 0), /NOPERM/);
  } finally {
    await acl.stop();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from '../../../sidecar/limit/limiter.ts';
import { bucketPolicy, takeToken } from '../../../sidecar/limit/token-bucket.ts';
import type { Reply, RequestContext } from '../../../sidecar/context.ts';
import { apiKey, clock, limiterConfig, makeCtx, run } from './helpers.ts';

const POLICY = '"identity";q=30;w=60;mcp-warden-burst=3';

test('exactly burst requests pass at once, one more per refill interval, exact 429 headers', async () => {
  const c = clock();
  const limited: string[] = [];
  // 30/min = one token every 2000 ms; burst 3.
  const rl = createRateLimiter(limiterConfig({ rateLimitPerMinute: 30, rateLimitBurst: 3 }), { now: c.now, onLimited: (l) => limited.push(l) });
  const who = apiKey('alice');
  const passes: (string | undefined)[] = [];
  for (let i = 0; i < 3; i++) {
    const ctx = makeCtx({ identity: who });
    assert.equal(await run(rl.identityStage, ctx), undefined, `request ${i + 1} of the burst passes`);
    assert.equal(ctx.responseHeaders?.['ratelimit-policy'], POLICY);
    passes.push(ctx.responseHeaders?.['ratelimit']);
  }
  assert.deepEqual(passes, ['"identity";r=2;t=2', '"identity";r=1;t=2', '"identity";r=0;t=2']);

  const refused = await run(rl.identityStage, makeCtx({ identity: who }));
  assert.deepEqual(refused, {
    status: 429,
    code: 'ERR_RATE_LIMITED',
    headers: { 'ratelimit-policy': POLICY, ratelimit: '"identity";r=0;t=2', 'retry-after': '2' },
    body: { error: 'Too Many Requests', message: 'Rate limit exceeded for this caller; retry after 2 s.' },
  });

  // 1 ms before the token: still refused, and Retry-After rounds 1 ms up to 1 s.
  c.advance(1999);
  const early = await run(rl.identityStage, makeCtx({ identity: who }));
  assert.equal(early?.status, 429);
  assert.equal(early?.headers?.['retry-after'], '1');
  assert.equal(early?.headers?.['ratelimit'], '"identity";r=0;t=1');

  c.advance(1);
  const ctx = makeCtx({ identity: who });
  assert.equal(await run(rl.identityStage, ctx), undefined, 'one token after the refill interval');
  assert.equal(ctx.responseHeaders?.['ratelimit'], '"identity";r=0;t=2');
  assert.equal((await run(rl.identityStage, makeCtx({ identity: who })))?.status, 429, 'and only one');
  assert.deepEqual(limited, ['identity', 'identity', 'identity']);

  // Other identities have their own buckets.
  assert.equal(await run(rl.identityStage, makeCtx({ identity: apiKey('bob') })), undefined);
});

test('default burst is a tenth of the rate (at least 1); a long pause refills to burst, not beyond', async () => {
  const c = clock();
  const rl = createRateLimiter(limiterConfig({ rateLimitPerMinute: 100 }), { now: c.now });
  const count = async () => {
    let n = 0;
    while ((await run(rl.identityStage, makeCtx({ identity: apiKey('a') }))) === undefined && n < 1000) n++;
    return n;
  };
  assert.equal(await count(), 10);
  c.advance(3_600_000);
  assert.equal(await count(), 10);

  const one = createRateLimiter(limiterConfig({ rateLimitPerMinute: 5 }), { now: c.now });
  assert.equal(await run(one.identityStage, makeCtx({ identity: apiKey('a') })), undefined);
  const r = await run(one.identityStage, makeCtx({ identity: apiKey('a') }));
  assert.equal(r?.headers?.['ratelimit-policy'], '"identity";q=5;w=60;mcp-warden-burst=1');
  assert.equal(r?.headers?.['retry-after'], '12');
});

test('the IP limit runs before authentication: failed credentials spend the IP budget', async () => {
  const c = clock();
  const rl = createRateLimiter(limiterConfig({ rateLimitPerIpPerMinute: 20, rateLimitPerMinute: 1000 }), { now: c.now });
  // A pipeline in the order the lead wires it: ip -> authenticate -> identity.
  const auth = (ctx: RequestContext): Reply | undefined => {
    if (ctx.headers['x-api-key'] !== 'good') return { status: 401, code: 'ERR_AUTH_INVALID_KEY' };
    ctx.identity = apiKey('good');
    return undefined;
  };
  const pipeline = async (ctx: RequestContext) => (await run(rl.ipStage, ctx)) ?? auth(ctx) ?? (await run(rl.identityStage, ctx)) ?? { status: 200, code: 'OK' as const };
  const statuses: number[] = [];
  for (let i = 0; i < 2; i++) statuses.push((await pipeline(makeCtx({ ip: '198.51.100.7', headers: { 'x-api-key': `guess-${i}` } }))).status);
  assert.deepEqual(statuses, [401, 401]);
  const good = await pipeline(makeCtx({ ip: '198.51.100.7', headers: { 'x-api-key': 'good' } }));
  assert.equal(good.status, 429, 'the two failed guesses used the burst of 2 (20/min)');
  assert.equal(good.headers?.['ratelimit'], '"ip";r=0;t=3');
  assert.equal(good.headers?.['ratelimit-policy'], '"ip";q=20;w=60;mcp-warden-burst=2');
  // Another address is unaffected, and a pass carries both policies as one SF list each.
  const ctx = makeCtx({ ip: '198.51.100.8', headers: { 'x-api-key': 'good' } });
  assert.equal((await pipeline(ctx)).status, 200);
  assert.equal(ctx.responseHeaders?.['ratelimit-policy'], '"ip";q=20;w=60;mcp-warden-burst=2, "identity";q=1000;w=60;mcp-warden-burst=100');
  assert.equal(ctx.responseHeaders?.['ratelimit'], '"ip";r=1;t=3, "identity";r=99;t=1');
});

test('IPv4-mapped and IPv6 addresses share keys as documented (mapped = IPv4, IPv6 per /64)', async () => {
  const c = clock();
  const rl = createRateLimiter(limiterConfig({ rateLimitPerIpPerMinute: 10 }), { now: c.now });
  assert.equal(await run(rl.ipStage, makeCtx({ ip: '203.0.113.5' })), undefined);
  assert.equal((await run(rl.ipStage, makeCtx({ ip: '::ffff:203.0.113.5' })))?.status, 429);
  assert.equal(await run(rl.ipStage, makeCtx({ ip: '2001:db8:1:2::1' })), undefined);
  assert.equal((await run(rl.ipStage, makeCtx({ ip: '2001:db8:1:2:ffff:1:2:3' })))?.status, 429, 'same /64');
  assert.equal(await run(rl.ipStage, makeCtx({ ip: '2001:db8:1:3::1' })), undefined, 'next /64');
});

test('without auth the identity limit keys on the client IP', async () => {
  const c = clock();
  const rl = createRateLimiter(limiterConfig({ rateLimitPerMinute: 10 }), { now: c.now });
  assert.equal(await run(rl.identityStage, makeCtx({ ip: '192.0.2.9' })), undefined);
  assert.equal((await run(rl.identityStage, makeCtx({ ip: '192.0.2.9', identity: { kind: 'none', id: 'anonymous', groups: [], scopes: [] } })))?.status, 429);
  assert.equal(await run(rl.identityStage, makeCtx({ ip: '192.0.2.10' })), undefined);
});

test('unconfigured limits are undefined stages', () => {
  const rl = createRateLimiter(limiterConfig({}));
  assert.deepEqual([rl.ipStage, rl.identityStage, rl.toolStage, rl.streams], [undefined, undefined, undefined, undefined]);
  assert.deepEqual(rl.stores, {});
});

test('takeToken: table of GCRA steps', () => {
  const p = bucketPolicy('x', 30, 3); // T = 2000 ms, tau = 6000 ms
  const rows: [tat: number, now: number, allowed: boolean, remaining: number, resetMs: number, newTat: number][] = [
    [0, 0, true, 2, 2000, 2000], // fresh bucket
    [4000, 0, true, 0, 2000, 6000],
    [6000, 0, false, 0, 2000, 6000], // refused: tat unchanged
    [6000, 1999, false, 0, 1, 6000],
    [6000, 2000, true, 0, 2000, 8000],
    [-1e9, 5000, true, 2, 2000, 7000], // long idle: full, never more than burst
  ];
  for (const [tat, now, allowed, remaining, resetMs, newTat] of rows) {
    assert.deepEqual(takeToken(tat, p, now), { allowed, remaining, resetMs, tat: newTat }, `tat=${tat} now=${now}`);
  }
  // 7/min: a non-integer interval still counts whole tokens right.
  const q = bucketPolicy('y', 7, 3);
  let tat = 0;
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = takeToken(tat, q, 0);
    seen.push(s.allowed ? s.remaining : -1);
    tat = s.tat;
  }
  assert.deepEqual(seen, [2, 1, 0, -1]);
});

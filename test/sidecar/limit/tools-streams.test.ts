import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRateLimiter } from '../../../sidecar/limit/limiter.ts';
import { STREAM_RETRY_AFTER_S } from '../../../sidecar/limit/streams.ts';
import { upstreamResponseHead, type Reply, type RpcCall } from '../../../sidecar/context.ts';
import { apiKey, clock, limiterConfig, makeCtx, run, type Ctx } from './helpers.ts';

const call = (tool: string, id = 1): RpcCall => ({ id, method: 'tools/call', tool });

test('per-tool limits: per identity per tool, exact headers, other tools and methods untouched', async () => {
  const c = clock();
  const limited: string[] = [];
  const rl = createRateLimiter(limiterConfig({ tools: { execute_command: 10, write_file: { perMinute: 30, burst: 2 } } }), { now: c.now, onLimited: (l) => limited.push(l) });
  const alice = apiKey('alice');
  // execute_command: 10/min, default burst 1.
  const first = makeCtx({ identity: alice, rpc: [call('execute_command')] });
  assert.equal(await run(rl.toolStage, first), undefined);
  assert.equal(first.responseHeaders?.['ratelimit-policy'], '"tool:execute_command";q=10;w=60;mcp-warden-burst=1');
  assert.equal(first.responseHeaders?.['ratelimit'], '"tool:execute_command";r=0;t=6');
  const second = await run(rl.toolStage, makeCtx({ identity: alice, rpc: [call('execute_command')] }));
  assert.equal(second?.status, 429);
  assert.equal(second?.code, 'ERR_RATE_LIMITED');
  assert.deepEqual(second?.headers, { 'ratelimit-policy': '"tool:execute_command";q=10;w=60;mcp-warden-burst=1', ratelimit: '"tool:execute_command";r=0;t=6', 'retry-after': '6' });
  assert.deepEqual(second?.body, { error: 'Too Many Requests', message: 'Rate limit exceeded for this tool; retry after 6 s.' });
  assert.deepEqual(limited, ['tool']);

  // Another identity, another tool, an unlimited tool, other methods: not affected.
  assert.equal(await run(rl.toolStage, makeCtx({ identity: apiKey('bob'), rpc: [call('execute_command')] })), undefined);
  assert.equal(await run(rl.toolStage, makeCtx({ identity: alice, rpc: [call('write_file')] })), undefined);
  assert.equal(await run(rl.toolStage, makeCtx({ identity: alice, rpc: [call('read_file'), call('read_file', 2)] })), undefined);
  const listCtx = makeCtx({ identity: alice, rpc: [{ id: 3, method: 'tools/list' }] });
  assert.equal(await run(rl.toolStage, listCtx), undefined);
  assert.deepEqual(listCtx.responseHeaders, {}, 'no tool limit involved: no headers');
  assert.equal(await run(rl.toolStage, makeCtx({ identity: alice })), undefined, 'no body (GET)');

  c.advance(6000);
  assert.equal(await run(rl.toolStage, makeCtx({ identity: alice, rpc: [call('execute_command')] })), undefined, 'refilled after 6 s');
});

test('per-tool limits: each call of a batch costs a token; one refusal refuses the batch', async () => {
  const c = clock();
  const rl = createRateLimiter(limiterConfig({ tools: { write_file: { perMinute: 30, burst: 3 } } }), { now: c.now });
  const who = apiKey('batch');
  const ctx = makeCtx({ identity: who, rpc: [call('write_file', 1), call('write_file', 2)] });
  assert.equal(await run(rl.toolStage, ctx), undefined);
  assert.equal(ctx.responseHeaders?.['ratelimit'], '"tool:write_file";r=1;t=2', 'one item per policy, after both takes');
  const refused = await run(rl.toolStage, makeCtx({ identity: who, rpc: [call('write_file', 3), call('write_file', 4)] }));
  assert.equal(refused?.status, 429);
  assert.equal(refused?.headers?.['retry-after'], '2');

  // Mixed batch: each limited tool reports one item, in configuration order.
  const mixed = createRateLimiter(limiterConfig({ tools: { a: 60, b: 120 } }), { now: c.now });
  const m = makeCtx({ identity: who, rpc: [call('b', 1), call('a', 2), call('x', 3), call('b', 4)] });
  assert.equal(await run(mixed.toolStage, m), undefined);
  assert.equal(m.responseHeaders?.['ratelimit-policy'], '"tool:a";q=60;w=60;mcp-warden-burst=6, "tool:b";q=120;w=60;mcp-warden-burst=12');
  assert.equal(m.responseHeaders?.['ratelimit'], '"tool:a";r=5;t=1, "tool:b";r=10;t=1');
});

test('stream limit: long-lived streams per identity counted by what the upstream answers, released exactly once', async () => {
  const limited: string[] = [];
  const rl = createRateLimiter(limiterConfig({ maxStreamsPerIdentity: 2 }), { onLimited: (l) => limited.push(l) });
  const streams = rl.streams!;
  const SSE = upstreamResponseHead(200, { 'content-type': 'text/event-stream' });
  const JSON_HEAD = upstreamResponseHead(200, { 'content-type': 'application/json' });
  /** Run the stage, then the response stage it registered (if any) with the upstream's head. */
  const exchange = async (ctx: Ctx, head: typeof SSE = SSE) => {
    const before = await run(streams.stage, ctx);
    if (before !== undefined) return before;
    for (const st of ctx.responseStages) {
      const r = st(head, ctx);
      if (r !== undefined) return r as Reply;
    }
    return undefined;
  };
  // No Accept at all: what counts is the event stream the upstream answers with.
  const open = () => makeCtx({ method: 'GET', identity: apiKey('s') });

  const a = open();
  const b = open();
  assert.equal(await exchange(a), undefined);
  assert.equal(await exchange(b), undefined);
  assert.equal(b.responseHeaders?.['ratelimit-policy'], '"streams";q=2;qu="concurrent-requests"');
  assert.equal(b.responseHeaders?.['ratelimit'], '"streams";r=0');
  // At the limit, a stream-opening request is refused before it reaches the upstream.
  const early = open();
  const third = await run(streams.stage, early);
  assert.deepEqual(third?.headers, { 'ratelimit-policy': '"streams";q=2;qu="concurrent-requests"', ratelimit: '"streams";r=0', 'retry-after': String(STREAM_RETRY_AFTER_S) });
  assert.equal(third?.status, 429);
  assert.equal(early.responseStages.length, 0);
  assert.deepEqual(limited, ['streams']);

  // A GET answered with JSON holds no slot; POSTs other than subscriptions/listen are not streams.
  const plain = makeCtx({ method: 'GET', identity: apiKey('t') });
  assert.equal(await exchange(plain, JSON_HEAD), undefined);
  assert.equal(streams.open('key:t'), 0);
  const post = makeCtx({ method: 'POST', identity: apiKey('s'), rpc: [{ id: 1, method: 'tools/call', tool: 'x' }] });
  assert.equal(await exchange(post), undefined);
  assert.equal(post.responseStages.length, 0);
  // A subscriptions/listen POST is one, whatever its Accept said.
  const listen = makeCtx({ method: 'POST', identity: apiKey('s'), rpc: [{ id: 2, method: 'subscriptions/listen' }] });
  assert.equal((await exchange(listen))?.status, 429);
  assert.deepEqual(limited, ['streams', 'streams']);

  // The edge reports the end of a stream once or twice (finish and close): one slot comes back.
  assert.equal(streams.open('key:s'), 2);
  for (const done of a.onDone) done({ status: 200, aborted: true });
  for (const done of a.onDone) done({ status: 200, aborted: false });
  assert.equal(streams.open('key:s'), 1);
  assert.equal(await exchange(open()), undefined, 'the freed slot is usable');
  assert.equal((await exchange(open()))?.status, 429, 'but only that one');

  for (const done of b.onDone) done({ status: 200, aborted: true });
  assert.equal(streams.open('key:s'), 1);
});

test('stream limit: acquire/release bookkeeping returns to zero and frees memory', () => {
  const rl = createRateLimiter(limiterConfig({ maxStreamsPerIdentity: 3 }));
  const s = rl.streams!;
  const releases = Array.from({ length: 3 }, () => s.acquire('k')!);
  assert.equal(s.acquire('k'), undefined);
  assert.equal(s.total, 3);
  for (const r of releases) {
    r();
    r();
  }
  assert.equal(s.total, 0);
  assert.equal(s.open('k'), 0);
  assert.ok(s.acquire('k') !== undefined);
});

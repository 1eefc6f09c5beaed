/**
 * Upstream capacity (issue 9, items 10 and 11): long-lived streams never starve ordinary requests
 * or health checks, a full lane answers 503 at once (never a hang), readiness says when ordinary
 * requests cannot be taken, and the per-identity stream cap counts what the upstream answers with.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { until } from '../../helpers/wait.ts';

const KEY = 'capacity-key-31415926';
const auth = { 'x-api-key': KEY };

/** An upstream whose GET /stream opens an event stream that stays open, and whose /slow waits to be released. */
async function streamingUpstream(): Promise<{ up: Upstream; releaseSlow: () => void }> {
  const held: ServerResponse[] = [];
  const up = await startUpstream((req, res) => {
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message\ndata: {"open":true}\n\n');
      return;
    }
    if (req.url === '/slow') return void held.push(res);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  return { up, releaseSlow: () => held.splice(0).forEach((r) => r.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}')) };
}

/** Open a stream and wait for its first event; returns how to close it. */
async function openStream(url: string, headers: Record<string, string> = auth): Promise<{ status: number; close: () => void }> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  if (res.status === 200) await res.body!.getReader().read();
  return { status: res.status, close: () => ac.abort() };
}

/** Bounded: a request that would hang (as on a starved pool) fails the test instead of the suite. */
const within = (ms: number): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(ms) });

describe('upstream capacity', () => {
  let s: Awaited<ReturnType<typeof streamingUpstream>>;
  before(async () => {
    s = await streamingUpstream();
  });
  after(async () => {
    await s.up.close();
  });

  test('130 open streams (more than the old 128-connection pool) starve nothing: POSTs, health checks and readiness answer', async () => {
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: s.up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_EXEMPT_PATHS: '/health' });
    const streams: { close: () => void }[] = [];
    try {
      for (let i = 0; i < 13; i++) streams.push(...(await Promise.all(Array.from({ length: 10 }, () => openStream(`${sc.url}/stream`)))));
      assert.equal(streams.length, 130);
      const post = await fetch(`${sc.url}/mcp`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', ...within(10_000) });
      assert.equal(post.status, 200);
      assert.equal((await fetch(`${sc.url}/health`, within(10_000))).status, 200);
      assert.equal((await fetch(`${sc.adminUrl}/readyz`, within(10_000))).status, 200);
      assert.match(await (await fetch(`${sc.adminUrl}/metrics`)).text(), /^mcp_warden_open_streams 130$/m);
    } finally {
      for (const st of streams) st.close();
      await sc.close();
    }
  });

  test('a full lane answers 503 with Retry-After at once; the other lanes, exempt paths included, go on; readiness follows the ordinary lane', async () => {
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: s.up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_EXEMPT_PATHS: '/health', MCP_AUTH_UPSTREAM_MAX_STREAMS: '3', MCP_AUTH_UPSTREAM_MAX_REQUESTS: '2' });
    const streams: { close: () => void }[] = [];
    try {
      for (let i = 0; i < 3; i++) streams.push(await openStream(`${sc.url}/stream`));
      const fourth = await fetch(`${sc.url}/stream`, { headers: auth, ...within(5000) });
      assert.equal(fourth.status, 503);
      assert.equal(fourth.headers.get('retry-after'), '1');
      assert.match(((await fourth.json()) as { message: string }).message, /3 long-lived streams in flight/);
      const post = (): Promise<Response> => fetch(`${sc.url}/slow`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}', ...within(10_000) });
      // Streams hold their own lane: ordinary requests still go, until their lane is full too.
      const slow = [post(), post()];
      await until(() => s.up.seen.filter((x) => x.url === '/slow').length >= 2, 'both slow requests to reach the upstream');
      const third = await post();
      assert.equal(third.status, 503);
      assert.equal((await fetch(`${sc.adminUrl}/readyz`)).status, 503, 'not ready while the ordinary lane is full');
      assert.match(await (await fetch(`${sc.adminUrl}/readyz`)).text(), /upstream connections exhausted/);
      assert.equal((await fetch(`${sc.url}/health`, within(5000))).status, 200, 'health checks have a lane of their own');
      s.releaseSlow();
      for (const r of await Promise.all(slow)) assert.equal(r.status, 200);
      await until(async () => (await fetch(`${sc.adminUrl}/readyz`)).status === 200, 'readiness back once the lane frees');
      assert.match(await (await fetch(`${sc.adminUrl}/metrics`)).text(), /mcp_warden_upstream_errors_total\{kind="busy"\} 2/);
      // A closed stream frees its place in the lane.
      streams.pop()!.close();
      await until(async () => (await openStream(`${sc.url}/stream`).then((x) => (streams.push(x), x.status))) === 200, 'a stream place to free');
    } finally {
      s.releaseSlow();
      for (const st of streams) st.close();
      await sc.close();
    }
  });
});

describe('the per-identity stream cap counts what the upstream answers', () => {
  let s: Awaited<ReturnType<typeof streamingUpstream>>;
  let sc: RunningSidecar;
  before(async () => {
    s = await streamingUpstream();
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: s.up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_MAX_STREAMS_PER_IDENTITY: '1' });
  });
  after(async () => {
    await sc.close();
    await s.up.close();
  });

  test('a GET that leaves out Accept still holds a stream slot; a GET answered with JSON holds none', async () => {
    // No Accept header at all (server-everything serves its SSE endpoint without one).
    const first = await openStream(`${sc.url}/stream`);
    assert.equal(first.status, 200);
    const second = await fetch(`${sc.url}/stream`, { headers: auth, ...within(5000) });
    assert.equal(second.status, 429);
    assert.match(second.headers.get('ratelimit-policy') ?? '', /"streams";q=1/);
    const n = s.up.seen.length;
    assert.equal((await fetch(`${sc.url}/stream`, { headers: auth, ...within(5000) })).status, 429);
    assert.equal(s.up.seen.length, n, 'at the limit, a stream-opening request is refused before the upstream');
    first.close();
    await until(async () => (await fetch(`${sc.adminUrl}/metrics`).then((r) => r.text())).includes('mcp_warden_open_streams 0'), 'the stream to close');
    const plain = await fetch(`${sc.url}/plain`, { headers: auth });
    assert.equal(plain.status, 200, 'a GET answered with JSON');
    const again = await openStream(`${sc.url}/stream`);
    assert.equal(again.status, 200, 'the JSON answer held no slot, and the closed stream gave its back');
    again.close();
  });
});

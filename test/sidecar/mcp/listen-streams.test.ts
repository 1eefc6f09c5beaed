/**
 * Issue 10, acceptance 5: `subscriptions/listen` streams are long-lived. They count against
 * MCP_AUTH_MAX_STREAMS_PER_IDENTITY (429 over it, the slot back when the stream ends) and against
 * the upstream's stream lane (MCP_AUTH_UPSTREAM_MAX_STREAMS, never starving ordinary requests), and
 * a drain ends them cleanly at once instead of holding shutdown to the grace deadline and cutting
 * them. Real v2 client and server, raw HTTP where the exact answer matters.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { MODERN_META, MODERN_VERSION } from '../../helpers/modern-request.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { startV2Server, type V2Server } from '../../helpers/v2-server.ts';
import { connectV2, type V2Client } from '../../helpers/v2-client.ts';
import { until } from '../../helpers/wait.ts';

const KEYS = ['listen-key-a-0123456789ab', 'listen-key-b-0123456789ab'];
const V = MODERN_VERSION;
const META = MODERN_META;
const listenBody = (id: string) => JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: META, notifications: { toolsListChanged: true } } });

/** A raw listen POST: resolves with the response head; the body is left to the caller. */
function openListen(base: string, key: string, id: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const body = listenBody(id);
    const req = request(`${base}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': key, 'mcp-protocol-version': V, 'mcp-method': 'subscriptions/listen', 'content-length': Buffer.byteLength(body) },
    });
    req.on('response', resolve);
    req.on('error', reject);
    req.end(body);
  });
}

/** Read a response to its end: the text, and whether it ended complete (not cut). */
function readToEnd(res: IncomingMessage, onText?: (all: string) => void): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      text += d;
      onText?.(text);
    });
    res.on('end', () => resolve({ text, complete: res.complete }));
    res.on('error', () => resolve({ text, complete: false }));
    res.on('aborted', () => resolve({ text, complete: false }));
  });
}

describe('subscriptions/listen streams count against the per-identity stream limit', () => {
  let server: V2Server;
  let sidecar: RunningSidecar;
  let client: V2Client;
  before(async () => {
    server = await startV2Server('json');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEYS.join(','), MCP_AUTH_MAX_STREAMS_PER_IDENTITY: '1' });
    client = await connectV2(`${sidecar.url}/mcp`, { 'X-API-Key': KEYS[0]! });
  });
  after(async () => {
    await client?.close();
    await sidecar?.close();
    await server?.close();
  });

  test('one open listen stream takes the slot: a second gets 429 before reaching the server; closing frees it', async () => {
    const sub = await client.client.listen({ toolsListChanged: true });
    const seen = server.seen.length;
    const second = await openListen(sidecar.url, KEYS[0]!, 'listen:raw-1');
    assert.equal(second.statusCode, 429);
    assert.equal(second.headers['retry-after'], '5');
    assert.equal(second.headers['ratelimit-policy'], '"streams";q=1;qu="concurrent-requests"');
    assert.equal(second.headers['ratelimit'], '"streams";r=0');
    assert.match((await readToEnd(second)).text, /Too Many Requests/);
    assert.equal(server.seen.length, seen, 'refused before the upstream');
    // Ordinary requests of the same identity are not streams: they still work.
    assert.deepEqual((await client.client.callTool({ name: 'echo', arguments: { message: 'x' } })).content, [{ type: 'text', text: 'echo: x' }]);
    // Another identity has its own slot.
    const other = await openListen(sidecar.url, KEYS[1]!, 'listen:raw-2');
    assert.equal(other.statusCode, 200);
    assert.match(String(other.headers['content-type']), /text\/event-stream/);
    other.destroy();
    await sub.close();
    // The slot comes back when the stream ends.
    await until(async () => {
      const r = await openListen(sidecar.url, KEYS[0]!, 'listen:raw-3');
      r.destroy();
      return r.statusCode === 200;
    }, 'the freed slot');
    const metrics = await (await fetch(`${sidecar.adminUrl}/metrics`)).text();
    assert.match(metrics, /mcp_warden_rate_limited_total\{limit="streams"\} [1-9]/);
  });
});

describe('subscriptions/listen streams use the upstream stream lane', () => {
  let server: V2Server;
  let sidecar: RunningSidecar;
  before(async () => {
    server = await startV2Server('json');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEYS.join(','), MCP_AUTH_UPSTREAM_MAX_STREAMS: '1', MCP_AUTH_UPSTREAM_MAX_REQUESTS: '1' });
  });
  after(async () => {
    await sidecar?.close();
    await server?.close();
  });

  test('a full stream lane refuses another listen with 503, and ordinary requests still pass', async () => {
    const first = await openListen(sidecar.url, KEYS[0]!, 'listen:lane-1');
    assert.equal(first.statusCode, 200);
    const second = await openListen(sidecar.url, KEYS[1]!, 'listen:lane-2');
    assert.equal(second.statusCode, 503);
    assert.match((await readToEnd(second)).text, /long-lived streams in flight/);
    // With one ordinary slot and one stream slot, the open listen holds none of the ordinary ones.
    const c = await connectV2(`${sidecar.url}/mcp`, { 'X-API-Key': KEYS[1]! });
    try {
      assert.deepEqual((await c.client.callTool({ name: 'echo', arguments: { message: 'lane' } })).content, [{ type: 'text', text: 'echo: lane' }]);
    } finally {
      await c.close();
      first.destroy();
    }
  });
});

describe('a drain ends open subscriptions/listen streams cleanly at once', () => {
  let server: V2Server;
  let sidecar: RunningSidecar;
  before(async () => {
    server = await startV2Server('json');
    // A grace period far beyond the test timeout: a stream still open when it ran out would be cut,
    // and the drain would not end within the test.
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEYS[0]!, MCP_AUTH_SHUTDOWN_GRACE_MS: '600000' });
  });
  after(async () => {
    await sidecar?.close();
    await server?.close();
  });

  test('the listen stream delivers list_changed, then ends complete when the drain starts; the drain finishes', async () => {
    const res = await openListen(sidecar.url, KEYS[0]!, 'listen:drain');
    assert.equal(res.statusCode, 200);
    let acked = false;
    const done = readToEnd(res, (all) => {
      if (!acked && all.includes('notifications/subscriptions/acknowledged')) {
        acked = true;
        server.notify.toolsChanged();
      }
    });
    await until(() => acked, 'the subscription acknowledged');
    const client = await connectV2(`${sidecar.url}/mcp`, { 'X-API-Key': KEYS[0]! });
    const sub = await client.client.listen({ toolsListChanged: true });
    await sidecar.sidecar.drain();
    const { text, complete } = await done;
    assert.ok(complete, 'the stream ended with its terminating chunk, not a cut connection');
    assert.match(text, /notifications\/tools\/list_changed/);
    // The SDK client sees the stream end without the listen response: it may listen again elsewhere.
    assert.equal(await sub.closed, 'remote');
    await client.close();
  });
});

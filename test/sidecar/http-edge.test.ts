/** The HTTP edge: limits, smuggling shapes, Origin, and what crosses to the upstream. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../helpers/sidecar.ts';
import { rawRequest } from '../helpers/raw-http.ts';

const KEY = 'edge-key-5a5a5a5a';
const H = `Host: sidecar\r\nX-API-Key: ${KEY}\r\n`;

describe('HTTP edge', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    up = await startUpstream();
    sc = await startSidecar(
      { MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_MAX_BODY_BYTES: '1024', MCP_AUTH_ALLOWED_ORIGINS: 'https://app.example.com' },
      { clientHeadersTimeoutMs: 300 },
    );
  });
  after(async () => {
    await sc.close();
    await up.close();
  });

  test('body over the cap: 413 by Content-Length, and for chunked JSON and chunked other bodies', async () => {
    const n = up.seen.length;
    const big = 'x'.repeat(2000);
    let res = await fetch(`${sc.url}/mcp`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: big });
    assert.equal(res.status, 413);
    const chunked = (ct: string) => `POST /mcp HTTP/1.1\r\n${H}Content-Type: ${ct}\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'a'.repeat(1024)}\r\n400\r\n${'b'.repeat(1024)}\r\n0\r\n\r\n`;
    for (const ct of ['application/json', 'application/octet-stream']) {
      const r = await rawRequest(sc.url, chunked(ct));
      assert.equal(r.status, 413, ct);
      assert.match(r.body, /Payload Too Large/);
    }
    assert.equal(up.seen.filter((s) => s.body.length > 1024).length, 0, 'nothing over the cap was delivered');
    assert.equal(up.seen.slice(n).filter((s) => s.headers['content-type'] === 'application/json').length, 0);
    res = await fetch(`${sc.url}/mcp`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: '{"ok":1}' });
    assert.equal(res.status, 200);
  });

  test('headers over 16 KiB: 431', async () => {
    const r = await rawRequest(sc.url, `GET /mcp HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    assert.equal(r.status, 431);
  });

  test('slow headers: 408', async () => {
    const r = await rawRequest(sc.url, `GET /mcp HTTP/1.1\r\nHost: sidecar\r\n`, { timeoutMs: 5000 });
    assert.equal(r.status, 408);
  });

  for (const [name, bytes] of [
    ['Content-Length with Transfer-Encoding', `POST /mcp HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
    ['two different Content-Lengths', `POST /mcp HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nab`],
    ['an odd Transfer-Encoding', `POST /mcp HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
    ['a bare LF line ending', `GET /mcp HTTP/1.1\nHost: sidecar\nX-API-Key: ${KEY}\n\n`],
    ['a space before the colon', `GET /mcp HTTP/1.1\r\nHost : sidecar\r\nX-API-Key: ${KEY}\r\n\r\n`],
  ] as const) {
    test(`smuggling shape, ${name}: 400 and the connection closed`, async () => {
      const n = up.seen.length;
      const r = await rawRequest(sc.url, bytes);
      assert.equal(r.status, 400);
      assert.match(r.head, /\r\nconnection: close/i, 'connection closed');
      assert.equal(up.seen.length, n, 'nothing forwarded');
    });
  }

  test('Origin: a foreign one gets 403, an allowed one and none pass', async () => {
    const get = (origin?: string) => fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': KEY, ...(origin ? { origin } : {}) } });
    assert.equal((await get('https://evil.example')).status, 403);
    assert.equal((await get('https://app.example.com.evil.example')).status, 403);
    assert.equal((await get('null')).status, 403);
    assert.equal((await get('https://app.example.com')).status, 200);
    assert.equal((await get()).status, 200);
  });

  test('hop-by-hop and Connection-named headers dropped; X-Forwarded-* set; identity headers cannot be forged', async () => {
    const r = await rawRequest(
      sc.url,
      `GET /mcp?q=1 HTTP/1.1\r\n${H}Connection: close, X-Custom, X-Forwarded-For\r\nX-Custom: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: websocket\r\nProxy-Authorization: Basic abc\r\nX-Forwarded-For: 6.6.6.6\r\nX-MCP-Auth-Subject: admin\r\nX-MCP-Auth-Groups: admins\r\nMcp-Session-Id: s-1\r\nMCP-Protocol-Version: 2025-06-18\r\nLast-Event-ID: 42\r\n\r\n`,
    );
    assert.equal(r.status, 200);
    const h = up.seen.at(-1)!.headers;
    for (const gone of ['x-custom', 'keep-alive', 'te', 'upgrade', 'proxy-authorization', 'x-mcp-auth-subject', 'x-mcp-auth-groups', 'x-api-key']) assert.equal(h[gone], undefined, gone);
    assert.equal(h['x-forwarded-for'], '127.0.0.1', 'the untrusted client cannot set or strip it');
    assert.equal(h['x-forwarded-proto'], 'http');
    assert.equal(h['x-forwarded-host'], 'sidecar');
    assert.equal(h['mcp-session-id'], 's-1');
    assert.equal(h['mcp-protocol-version'], '2025-06-18');
    assert.equal(h['last-event-id'], '42');
    assert.equal(up.seen.at(-1)!.url, '/mcp?q=1');
  });

  test('GET, POST and DELETE are forwarded with their bodies', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const body = method === 'POST' ? '{"jsonrpc":"2.0","id":1,"method":"ping"}' : undefined;
      const res = await fetch(`${sc.url}/mcp`, { method, headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body });
      assert.equal(res.status, 200, method);
      assert.equal(up.seen.at(-1)!.method, method);
      if (body) assert.equal(up.seen.at(-1)!.body, body);
    }
  });
});

describe('behind a trusted proxy', () => {
  test('X-Forwarded-For is extended and X-Forwarded-Proto kept only from a trusted peer', async () => {
    const up = await startUpstream();
    const trusted = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_TRUSTED_PROXIES: '127.0.0.0/8' });
    const untrusted = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_TRUSTED_PROXIES: '10.0.0.0/8' });
    try {
      const headers = { 'x-api-key': KEY, 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };
      assert.equal((await fetch(`${trusted.url}/mcp`, { headers })).status, 200);
      let h = up.seen.at(-1)!.headers;
      assert.equal(h['x-forwarded-for'], '203.0.113.7, 127.0.0.1', 'the chain is kept and the trusted hop appended');
      assert.equal(h['x-forwarded-proto'], 'https');
      assert.equal((await fetch(`${untrusted.url}/mcp`, { headers })).status, 200);
      h = up.seen.at(-1)!.headers;
      assert.equal(h['x-forwarded-for'], '127.0.0.1');
      assert.equal(h['x-forwarded-proto'], 'http');
    } finally {
      await trusted.close();
      await untrusted.close();
      await up.close();
    }
  });
});

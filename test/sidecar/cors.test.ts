/**
 * CORS for browser MCP clients, as raw HTTP (browser.test.ts runs the same through Chromium):
 * preflights from an allowed origin are answered by the sidecar itself, without credentials and
 * without reaching the upstream; actual responses to an allowed origin, refusals included, carry
 * the CORS headers; every other origin still gets 403.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../helpers/sidecar.ts';
import { startIdp, type Idp } from '../helpers/idp.ts';

const KEY = 'cors-key-1a2b3c4d5e';
const APP = 'https://app.example';

const preflight = (base: string, origin: string, requestHeaders = 'content-type, x-api-key, mcp-protocol-version'): Promise<Response> =>
  fetch(`${base}/mcp`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders } });

const list = (v: string | null): string[] => (v ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '');

describe('CORS with an allowed origin', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    // An upstream with CORS of its own (as server-everything has): the sidecar's must win.
    up = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's-1', vary: 'Accept-Encoding', 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'X-Internal' });
      res.end('{"ok":true}');
    });
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_ALLOWED_ORIGINS: `${APP},http://localhost:5173`, MCP_AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: '600' });
  });
  after(async () => {
    await sc.close();
    await up.close();
  });

  test('a preflight without credentials: 204 from the sidecar, allowing the key header, Authorization and the MCP headers; never forwarded', async () => {
    const seen = up.seen.length;
    const res = await preflight(sc.url, APP, 'authorization, content-type, last-event-id, mcp-method, mcp-name, mcp-param-region, mcp-protocol-version, mcp-session-id, x-api-key');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.deepEqual(list(res.headers.get('access-control-allow-methods')).sort(), ['delete', 'get', 'post']);
    const allowed = list(res.headers.get('access-control-allow-headers'));
    for (const h of ['x-api-key', 'authorization', 'content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'mcp-method', 'mcp-name', 'mcp-param-region']) assert.ok(allowed.includes(h), `${h} in ${allowed.join(', ')}`);
    assert.ok(list(res.headers.get('vary')).includes('origin'));
    assert.equal(res.headers.get('access-control-max-age'), '600');
    assert.equal(res.headers.get('access-control-allow-credentials'), null, 'no cookies: MCP clients authenticate with headers');
    assert.equal(await res.text(), '');
    assert.equal(up.seen.length, seen, 'the upstream never sees a preflight');
  });

  test('only MCP parameter headers are added to the fixed list, and only valid names', async () => {
    const allowed = list((await preflight(sc.url, 'http://localhost:5173', 'x-other, mcp-param-, mcp-param-a(b), mcp-param-tenant')).headers.get('access-control-allow-headers'));
    assert.ok(allowed.includes('mcp-param-tenant'));
    for (const h of ['x-other', 'mcp-param-', 'mcp-param-a(b)']) assert.ok(!allowed.includes(h), h);
  });

  test('an actual request: the upstream\'s answer with the sidecar\'s CORS headers only; Vary keeps the upstream\'s names', async () => {
    const res = await fetch(`${sc.url}/mcp`, { method: 'POST', headers: { origin: APP, 'x-api-key': KEY, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-credentials'), null, "the upstream's credentials grant is dropped");
    const exposed = list(res.headers.get('access-control-expose-headers'));
    for (const h of ['mcp-session-id', 'mcp-protocol-version', 'www-authenticate', 'retry-after', 'ratelimit', 'ratelimit-policy']) assert.ok(exposed.includes(h), h);
    assert.ok(!exposed.includes('x-internal'));
    assert.deepEqual(list(res.headers.get('vary')), ['accept-encoding', 'origin']);
    assert.equal(res.headers.get('mcp-session-id'), 's-1');
    assert.equal(up.seen.at(-1)?.headers.origin, APP, 'the Origin still reaches the upstream');
  });

  test('refusals to an allowed origin carry the CORS headers, so the page can read them: 401 with its challenge', async () => {
    const res = await fetch(`${sc.url}/mcp`, { method: 'POST', headers: { origin: APP, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.ok(list(res.headers.get('access-control-expose-headers')).includes('www-authenticate'));
    assert.equal(res.headers.get('www-authenticate'), 'ApiKey realm="mcp-warden", header="X-API-Key"');
    assert.deepEqual(list(res.headers.get('vary')), ['origin']);
  });

  test('OPTIONS without Access-Control-Request-Method is no preflight: it needs the key like any request', async () => {
    const res = await fetch(`${sc.url}/mcp`, { method: 'OPTIONS', headers: { origin: APP } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
  });

  test('an exempt path to an allowed origin carries the sidecar\'s CORS headers, not the upstream\'s', async () => {
    const res = await fetch(`${sc.url}/health`, { headers: { origin: APP } });
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.ok(list(res.headers.get('access-control-expose-headers')).includes('mcp-session-id'));
    assert.deepEqual(list(res.headers.get('vary')), ['accept-encoding', 'origin']);
    const other = await fetch(`${sc.url}/health`, { headers: { origin: 'https://evil.example' } });
    await other.text();
    assert.equal(other.headers.get('access-control-allow-origin'), '*', 'another origin gets no CORS header of the sidecar (the upstream\'s passes as before)');
  });

  test('an origin not allowed: 403 for preflights and requests alike, with no CORS header', async () => {
    for (const res of [await preflight(sc.url, 'https://evil.example'), await fetch(`${sc.url}/mcp`, { headers: { origin: 'https://evil.example', 'x-api-key': KEY } })]) {
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.deepEqual(await res.json(), { error: 'Forbidden', message: 'Origin not allowed' });
    }
  });
});

test('a 429 to an allowed origin carries the CORS headers (the per-IP limit runs after CORS)', async () => {
  const up = await startUpstream();
  const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_ALLOWED_ORIGINS: APP, MCP_AUTH_RATE_LIMIT_PER_IP_PER_MINUTE: '1' });
  try {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 5 && !limited; i++) {
      const res = await fetch(`${sc.url}/mcp`, { headers: { origin: APP, 'x-api-key': KEY } });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.text();
    }
    assert.ok(limited, `a 429 among ${statuses.join(', ')}`);
    assert.equal(limited.headers.get('access-control-allow-origin'), APP);
    assert.ok(limited.headers.get('retry-after'));
  } finally {
    await sc.close();
    await up.close();
  }
});

test('no allowed origins (the default): a preflight gets 403, as every request with an Origin', async () => {
  const up = await startUpstream();
  const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY });
  try {
    const res = await preflight(sc.url, APP);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(up.seen.length, 0);
  } finally {
    await sc.close();
    await up.close();
  }
});

test('the RFC 9728 metadata document is public: readable from every origin (`*`), an allowed one included', async () => {
  const resource = 'http://127.0.0.1:1/mcp';
  const idp: Idp = await startIdp({ audience: resource });
  const up = await startUpstream();
  const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_JWT_ISSUER: idp.issuer, MCP_AUTH_JWT_AUDIENCE: resource, MCP_AUTH_RESOURCE_URL: resource, MCP_AUTH_ALLOWED_ORIGINS: APP });
  try {
    for (const origin of [APP, 'https://evil.example']) {
      const res = await fetch(`${sc.url}/.well-known/oauth-protected-resource/mcp`, { headers: { origin } });
      assert.equal(res.status, 200, origin);
      assert.equal(res.headers.get('access-control-allow-origin'), '*', origin);
      assert.equal(((await res.json()) as { resource: string }).resource, resource);
    }
    assert.equal(up.seen.length, 0, 'answered by the sidecar');
  } finally {
    await sc.close();
    await up.close();
    await idp.stop();
  }
});

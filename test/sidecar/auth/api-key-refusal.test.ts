/**
 * API-key mode and OAuth-minded clients: every 401 names the API-key scheme and header, and with
 * no OAuth configured the OAuth discovery documents and default endpoints answer 404 to a caller
 * without a key (mcp-remote and the Inspector stop there instead of starting a browser sign-in).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isOAuthPath } from '../../../sidecar/auth/api-key-refusal.ts';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';

const KEY = 'refusal-key-5e5e5e5e';
const EXACT_401 = '{"error":"Unauthorized","message":"Invalid API key"}';
const CHALLENGE = 'ApiKey realm="mcp-warden", header="X-API-Key"';
const OAUTH_PATHS = [
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-authorization-server/mcp',
  '/.well-known/openid-configuration',
  '/.well-known/openid-configuration/mcp',
  '/mcp/.well-known/openid-configuration',
  '/authorize',
  '/token',
  '/register',
];

test('OAuth paths: the discovery documents in every form an MCP client probes, and the 2025-03-26 default endpoints', () => {
  for (const p of OAUTH_PATHS) assert.equal(isOAuthPath(p), true, p);
  for (const p of ['/mcp', '/sse', '/.well-known/other', '/.well-known/oauth-protected-resourcex', '/mcp/register', '/tokens', '/']) assert.equal(isOAuthPath(p), false, p);
});

describe('apikey mode', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    up = await startUpstream();
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY });
  });
  after(async () => {
    await sc.close();
    await up.close();
  });

  test('every 401 carries WWW-Authenticate: ApiKey with the header name; the body is unchanged', async () => {
    for (const [method, headers] of [['POST', {}], ['POST', { 'x-api-key': 'wrong' }], ['GET', {}], ['DELETE', { 'x-api-key': '' }]] as [string, Record<string, string>][]) {
      const res = await fetch(`${sc.url}/mcp`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'POST' ? { body: '{}' } : {}) });
      assert.equal(res.status, 401, `${method} ${JSON.stringify(headers)}`);
      assert.equal(res.headers.get('www-authenticate'), CHALLENGE);
      assert.equal(await res.text(), EXACT_401);
    }
  });

  test('OAuth paths without a valid key: 404 naming the header, never forwarded; with the key: forwarded as before', async () => {
    const before = up.seen.length;
    for (const path of OAUTH_PATHS) {
      for (const [method, headers] of [['GET', {}], ['POST', { 'x-api-key': 'wrong' }]] as [string, Record<string, string>][]) {
        const res = await fetch(`${sc.url}${path}`, { method, headers, ...(method === 'POST' ? { body: '{}' } : {}) });
        assert.equal(res.status, 404, `${method} ${path}`);
        const body = await res.text();
        assert.equal(body, '{"error":"Not Found","message":"This server does not use OAuth; send the API key in the X-API-Key header"}');
        // mcp-remote treats an error whose text contains "Unauthorized" as "sign in in the browser".
        assert.doesNotMatch(body, /unauthori[sz]ed/i);
      }
    }
    assert.equal(up.seen.length, before, 'no unauthenticated request reached the upstream');
    const res = await fetch(`${sc.url}/.well-known/oauth-authorization-server`, { headers: { 'x-api-key': KEY } });
    assert.equal(res.status, 200);
    assert.equal(up.seen.at(-1)?.url, '/.well-known/oauth-authorization-server', 'a caller with the key reaches the upstream\'s own document');
    assert.equal((await fetch(`${sc.url}/.well-known/something-else`)).status, 401, 'other paths are protected as before');
  });

  test('MCP_AUTH_HEADER=Authorization: the challenge names it', async () => {
    const sc2 = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_HEADER: 'Authorization' });
    try {
      const res = await fetch(`${sc2.url}/mcp`);
      assert.equal(res.headers.get('www-authenticate'), 'ApiKey realm="mcp-warden", header="Authorization"');
      assert.match(await (await fetch(`${sc2.url}/register`, { method: 'POST' })).text(), /send the API key in the Authorization header/);
    } finally {
      await sc2.close();
    }
  });
});

describe('with JWT configured', () => {
  const jwtEnv = { MCP_AUTH_JWT_SECRET: 'refusal-shared-secret-0123456789abcdef', MCP_AUTH_JWT_ISSUER: 'https://idp.example', MCP_AUTH_JWT_AUDIENCE: 'mcp', MCP_AUTH_RESOURCE_URL: 'https://mcp.example/mcp' };
  let up: Upstream;
  before(async () => {
    up = await startUpstream();
  });
  after(() => up.close());

  test('mode any: the Bearer challenge first (OAuth clients find resource_metadata), then ApiKey; OAuth paths keep their 401', async () => {
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, ...jwtEnv });
    try {
      const none = await fetch(`${sc.url}/mcp`);
      assert.equal(none.headers.get('www-authenticate'), `Bearer realm="mcp-warden", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp", ${CHALLENGE}`);
      const wrong = await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': 'wrong' } });
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get('www-authenticate') ?? '', /ApiKey realm="mcp-warden", header="X-API-Key"$/);
      assert.equal((await fetch(`${sc.url}/.well-known/oauth-authorization-server`)).status, 401);
      assert.equal((await fetch(`${sc.url}/.well-known/oauth-protected-resource/mcp`)).status, 200, 'the RFC 9728 document is still served');
    } finally {
      await sc.close();
    }
  });

  test('mode jwt: only the Bearer challenge', async () => {
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, ...jwtEnv });
    try {
      assert.equal((await fetch(`${sc.url}/mcp`)).headers.get('www-authenticate'), 'Bearer realm="mcp-warden", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource/mcp"');
      assert.equal((await fetch(`${sc.url}/register`, { method: 'POST' })).status, 401);
    } finally {
      await sc.close();
    }
  });
});

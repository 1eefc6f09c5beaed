/**
 * JWT through the whole sidecar: a real oidc-provider token -> the official MCP SDK client
 * (Streamable HTTP, Authorization in requestInit) -> the sidecar -> server-everything. Also the
 * discovery chain a client walks over HTTP, and the refusals as a client sees them on the wire.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEverything, type Everything } from '../../helpers/everything.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { connectClient } from '../../helpers/mcp-client.ts';
import { freePort } from '../../helpers/ports.ts';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { startIdp, type Idp } from '../../helpers/idp.ts';

describe('JWT end to end', () => {
  let idp: Idp;
  let everything: Everything;
  let recorder: Upstream;
  let sc: RunningSidecar;
  let rec: RunningSidecar;
  let resource: string;

  before(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    idp = await startIdp({ audience: resource });
    everything = await startEverything('streamableHttp');
    recorder = await startUpstream();
    const jwtEnv = { MCP_AUTH_JWT_ISSUER: idp.issuer, MCP_AUTH_JWT_AUDIENCE: resource, MCP_AUTH_RESOURCE_URL: resource, MCP_AUTH_JWT_REQUIRED_SCOPES: 'mcp:read' };
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: everything.url, MCP_AUTH_LISTEN_PORT: String(port), ...jwtEnv });
    rec = await startSidecar({ MCP_AUTH_UPSTREAM_URL: recorder.url, ...jwtEnv });
  });
  after(async () => {
    await sc?.close();
    await rec?.close();
    await recorder?.close();
    await everything?.stop();
    await idp?.stop();
  });

  test('discovery chain over HTTP, then the MCP SDK lists tools and calls echo with the token', async () => {
    const first = await fetch(`${sc.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    assert.equal(first.status, 401);
    const challenge = first.headers.get('www-authenticate') ?? '';
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
    assert.equal(metadataUrl, `${sc.url}/.well-known/oauth-protected-resource/mcp`);

    const metaRes = await fetch(metadataUrl!);
    assert.equal(metaRes.status, 200);
    const meta = (await metaRes.json()) as { resource: string; authorization_servers: string[]; scopes_supported: string[] };
    assert.deepEqual(meta.authorization_servers, [idp.issuer]);
    assert.equal(meta.resource, resource);
    const oidc = (await (await fetch(`${meta.authorization_servers[0]}/.well-known/openid-configuration`)).json()) as { issuer: string; token_endpoint: string };
    assert.equal(oidc.issuer, idp.issuer);

    const token = await idp.token({ resource: meta.resource, scope: meta.scopes_supported.join(' ') });
    const client = await connectClient(sc.url, 'streamableHttp', { Authorization: `Bearer ${token}` });
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'), tools.map((t) => t.name).join(','));
      const res = await client.callTool({ name: 'echo', arguments: { message: 'hello with a JWT' } });
      assert.match((res.content as { text: string }[])[0]?.text ?? '', /hello with a JWT/);
    } finally {
      await client.close();
    }
    assert.ok(!sc.rawLogs().includes(token), 'the token never appears in a log line');
  });

  test('the token is never forwarded upstream', async () => {
    const token = await idp.token({ scope: 'mcp:read' });
    const res = await fetch(`${rec.url}/mcp`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const seen = recorder.seen.at(-1)!;
    assert.equal(seen.headers.authorization, undefined);
    assert.ok(!JSON.stringify(seen.headers).includes(token.split('.')[2]!));
  });

  test('a valid token in the query string is ignored: 401, upstream untouched', async () => {
    const token = await idp.token({ scope: 'mcp:read' });
    const before = recorder.seen.length;
    for (const q of [`access_token=${token}`, `token=${token}`, `authorization=Bearer%20${token}`]) {
      const res = await fetch(`${rec.url}/mcp?${q}`);
      assert.equal(res.status, 401, q);
      assert.doesNotMatch(res.headers.get('www-authenticate') ?? '', /error=/);
    }
    assert.equal(recorder.seen.length, before);
  });

  test('on the wire: bad token 401 invalid_token, missing scope 403 insufficient_scope, JSON bodies without the token', async () => {
    const before = recorder.seen.length;
    const token = await idp.token({ scope: 'mcp:read' });
    const bad = await fetch(`${rec.url}/mcp`, { headers: { authorization: `Bearer ${token.slice(0, -6)}AAAAAA` } });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /^Bearer realm="mcp-warden", resource_metadata="[^"]+", error="invalid_token"/);
    const badBody = await bad.text();
    assert.equal((JSON.parse(badBody) as { error: string }).error, 'Unauthorized');
    assert.ok(!badBody.includes(token.split('.')[1]!));

    const noScope = await fetch(`${rec.url}/mcp`, { headers: { authorization: `Bearer ${await idp.token()}` } });
    assert.equal(noScope.status, 403);
    assert.match(noScope.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="mcp:read"/);
    assert.equal(((await noScope.json()) as { error: string }).error, 'Forbidden');
    assert.equal(recorder.seen.length, before);

    const metrics = await (await fetch(`${rec.adminUrl}/metrics`)).text();
    assert.match(metrics, /mcp_warden_jwt_failures_total\{reason="bad_signature"\} 1/);
    assert.match(metrics, /mcp_warden_jwt_failures_total\{reason="insufficient_scope"\} 1/);
  });
});

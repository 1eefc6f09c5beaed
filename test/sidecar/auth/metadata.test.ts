/**
 * RFC 9728 protected-resource metadata and the discovery chain an MCP client follows:
 * 401 `resource_metadata` -> metadata document -> authorization server's
 * `/.well-known/openid-configuration` -> token for the resource -> accepted.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type Config } from '../../../sidecar/config.ts';
import { metadataPaths, metadataReply } from '../../../sidecar/auth/metadata.ts';
import { resourceMetadataUrl, unauthorizedReply } from '../../../sidecar/auth/challenge.ts';
import { createJwtAuthenticator } from '../../../sidecar/auth/jwt.ts';
import { startIdp, type Idp } from '../../helpers/idp.ts';

function configFor(env: Record<string, string>): Config {
  return loadConfig({ env: { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1', ...env }, readFile: () => assert.fail('no files') });
}
const jwtEnv = (resource: string, extra: Record<string, string> = {}) => ({ MCP_AUTH_JWT_ISSUER: 'https://idp.example.test/realms/mcp', MCP_AUTH_JWT_AUDIENCE: resource, MCP_AUTH_RESOURCE_URL: resource, ...extra });

test('metadata URL per RFC 9728 3.1: suffix inserted between origin and path, trailing slash dropped', () => {
  assert.equal(resourceMetadataUrl('https://mcp.example.test/mcp'), 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp');
  assert.equal(resourceMetadataUrl('https://mcp.example.test/a/b/'), 'https://mcp.example.test/.well-known/oauth-protected-resource/a/b');
  assert.equal(resourceMetadataUrl('https://mcp.example.test'), 'https://mcp.example.test/.well-known/oauth-protected-resource');
  assert.equal(resourceMetadataUrl('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/.well-known/oauth-protected-resource');
});

test('the document is served at both the plain and the path-suffixed well-known path', () => {
  const config = configFor(jwtEnv('https://mcp.example.test/mcp', { MCP_AUTH_JWT_REQUIRED_SCOPES: 'mcp:read,mcp:write' }));
  assert.deepEqual(metadataPaths(config), ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']);
  for (const path of metadataPaths(config)) {
    const r = metadataReply(config, path);
    assert.ok(r, path);
    assert.equal(r.status, 200);
    assert.equal(r.code, 'OK');
    assert.equal(r.headers?.['content-type'], 'application/json');
    assert.deepEqual(r.body, {
      resource: 'https://mcp.example.test/mcp',
      authorization_servers: ['https://idp.example.test/realms/mcp'],
      scopes_supported: ['mcp:read', 'mcp:write'],
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-warden',
    });
  }
});

test('other paths, near misses and JWT off: undefined (the caller goes on to authenticate)', () => {
  const config = configFor(jwtEnv('https://mcp.example.test/mcp'));
  for (const p of ['/mcp', '/.well-known/oauth-protected-resource/', '/.well-known/oauth-protected-resource/mcpx', '/.well-known/oauth-protected-resource/other', '/.well-known/oauth-authorization-server', '/.WELL-KNOWN/oauth-protected-resource']) {
    assert.equal(metadataReply(config, p), undefined, p);
  }
  const body = metadataReply(config, '/.well-known/oauth-protected-resource')?.body as Record<string, unknown>;
  assert.equal('scopes_supported' in body, false, 'no scopes_supported when none is required');
  const off = configFor({});
  assert.equal(metadataReply(off, '/.well-known/oauth-protected-resource'), undefined);
  const root = configFor(jwtEnv('https://mcp.example.test'));
  assert.deepEqual(metadataPaths(root), ['/.well-known/oauth-protected-resource']);
});

test('unauthorizedReply: bare challenge without a token, invalid_token with one; JSON bodies', () => {
  const config = configFor(jwtEnv('https://mcp.example.test/mcp'));
  const bare = unauthorizedReply(config, { tokenPresented: false });
  assert.equal(bare.status, 401);
  assert.equal(bare.code, 'ERR_AUTH_MISSING');
  assert.equal(bare.headers?.['www-authenticate'], 'Bearer realm="mcp-warden", resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp"');
  assert.deepEqual(bare.body, { error: 'Unauthorized', message: 'an access token is required' });
  const bad = unauthorizedReply(config, { tokenPresented: true, description: 'say "hi"\r\nX: y' });
  assert.equal(bad.code, 'ERR_AUTH_INVALID_TOKEN');
  assert.equal(bad.headers?.['www-authenticate'], 'Bearer realm="mcp-warden", resource_metadata="https://mcp.example.test/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="say \\"hi\\"X: y"');
});

let idp: Idp;
before(async () => {
  idp = await startIdp({ audience: 'http://127.0.0.1:8080/mcp' });
});
after(() => idp.stop());

test('discovery chain: 401 -> resource_metadata -> metadata -> openid-configuration -> token -> accepted', async (t) => {
  const resource = 'http://127.0.0.1:8080/mcp';
  const config = configFor({ MCP_AUTH_JWT_ISSUER: idp.issuer, MCP_AUTH_JWT_AUDIENCE: resource, MCP_AUTH_RESOURCE_URL: resource, MCP_AUTH_JWT_REQUIRED_SCOPES: 'mcp:read' });
  const auth = createJwtAuthenticator(config);
  t.after(() => auth.close());

  // 1. The client calls without a token and reads the challenge.
  const first = await auth.authenticate(undefined);
  assert.equal(first.ok, false);
  if (first.ok) return;
  const challenge = first.reply.headers?.['www-authenticate'] ?? '';
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)?.[1];
  assert.ok(metadataUrl, challenge);

  // 2. It fetches the metadata (here: the Reply the sidecar would send for that path).
  const u = new URL(metadataUrl);
  assert.equal(u.origin, new URL(resource).origin);
  const meta = metadataReply(config, u.pathname)?.body as { resource: string; authorization_servers: string[]; scopes_supported: string[] };
  assert.equal(meta.resource, resource);

  // 3. It discovers the authorization server (real oidc-provider over HTTP).
  const as = meta.authorization_servers[0]!;
  const oidc = (await (await fetch(`${as}/.well-known/openid-configuration`)).json()) as { issuer: string; token_endpoint: string; jwks_uri: string };
  assert.equal(oidc.issuer, as);
  assert.match(oidc.token_endpoint, /^http:\/\/127\.0\.0\.1:\d+\/token$/);

  // 4. It asks for a token for this resource (RFC 8707) with the advertised scopes, and retries.
  const token = await idp.token({ resource: meta.resource, scope: meta.scopes_supported.join(' ') });
  const second = await auth.authenticate(`Bearer ${token}`);
  assert.equal(second.ok, true);
});

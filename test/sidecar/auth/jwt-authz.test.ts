/**
 * Groups (any one) and scopes (all): 403 `insufficient_scope` with the scopes needed; claim
 * extraction; the shared-secret mode; and the algorithm/key-source checks done at construction.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, type Config } from '../../../sidecar/config.ts';
import { ConfigError, ERR } from '../../../sidecar/errors.ts';
import { createJwtAuthenticator } from '../../../sidecar/auth/jwt.ts';
import { resolveAlgorithms } from '../../../sidecar/auth/jwt-algorithms.ts';
import { groupsOf, scopesOf } from '../../../sidecar/auth/jwt-claims.ts';
import { mintToken, rsaKey, startIdp, type Idp } from '../../helpers/idp.ts';

const RESOURCE = 'https://mcp.example.test/mcp';
const SECRET = 'a-shared-secret-of-at-least-32-bytes!!';
let idp: Idp;

function configFor(env: Record<string, string>): Config {
  return loadConfig({ env: { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1', MCP_AUTH_JWT_AUDIENCE: RESOURCE, MCP_AUTH_RESOURCE_URL: RESOURCE, ...env }, readFile: () => assert.fail('no files') });
}

before(async () => {
  idp = await startIdp({ audience: RESOURCE });
});
after(() => idp.stop());

test('groups: any one of the required groups passes; none gives 403 insufficient_scope', async (t) => {
  const auth = createJwtAuthenticator(configFor({ MCP_AUTH_JWT_ISSUER: idp.issuer, MCP_AUTH_JWT_REQUIRED_GROUPS: 'mcp-admins,mcp-users' }));
  t.after(() => auth.close());
  assert.equal((await auth.authenticate(`Bearer ${await idp.token({ groups: ['other', 'mcp-users'] })}`)).ok, true);
  for (const groups of [['other'], [], undefined]) {
    const r = await auth.authenticate(`Bearer ${await idp.token({ groups })}`);
    assert.equal(r.ok, false, `groups ${JSON.stringify(groups)}`);
    if (r.ok) continue;
    assert.equal(r.reply.status, 403);
    assert.equal(r.reply.code, ERR.AUTH_INSUFFICIENT_SCOPE);
    assert.equal(r.reason, 'insufficient_group');
    assert.match(r.reply.headers?.['www-authenticate'] ?? '', /^Bearer realm="mcp-warden", resource_metadata="https:\/\/mcp\.example\.test\/\.well-known\/oauth-protected-resource\/mcp", error="insufficient_scope", error_description="[^"]+"$/);
    assert.deepEqual(r.reply.body, { error: 'Forbidden', message: 'the token carries none of the required groups' });
  }
});

test('scopes: all required scopes are needed; the 403 names them all', async (t) => {
  const failures: string[] = [];
  const auth = createJwtAuthenticator(configFor({ MCP_AUTH_JWT_ISSUER: idp.issuer, MCP_AUTH_JWT_REQUIRED_SCOPES: 'mcp:read,mcp:write' }), { onFailure: (r) => failures.push(r) });
  t.after(() => auth.close());
  assert.equal((await auth.authenticate(`Bearer ${await idp.token({ scope: 'mcp:read mcp:write mcp:admin' })}`)).ok, true);
  for (const scope of ['mcp:read', 'mcp:write', undefined]) {
    const r = await auth.authenticate(`Bearer ${await idp.token({ scope })}`);
    assert.equal(r.ok, false, `scope ${scope}`);
    if (r.ok) continue;
    assert.equal(r.reply.status, 403);
    assert.equal(r.reason, 'insufficient_scope');
    assert.match(r.reply.headers?.['www-authenticate'] ?? '', /, error="insufficient_scope", scope="mcp:read mcp:write", error_description="[^"]+"$/);
    assert.equal((r.reply.body as { error: string }).error, 'Forbidden');
  }
  assert.deepEqual(failures, ['insufficient_scope', 'insufficient_scope', 'insufficient_scope']);
});

test('scopes come from `scope` (string) and `scp` (array or string); groups from a dotted claim path', () => {
  assert.deepEqual(scopesOf({ scope: 'a  b' }), ['a', 'b']);
  assert.deepEqual(scopesOf({ scp: ['a', 'c', 3] }), ['a', 'c']);
  assert.deepEqual(scopesOf({ scp: 'x y' }), ['x', 'y']);
  assert.deepEqual(scopesOf({ scope: 'a', scp: ['a', 'b'] }), ['a', 'b']);
  assert.deepEqual(scopesOf({ scope: 42 }), []);
  assert.deepEqual(groupsOf({ realm_access: { roles: ['r1', 'r2'] } }, 'realm_access.roles'), ['r1', 'r2']);
  assert.deepEqual(groupsOf({ groups: 'one' }, 'groups'), ['one']);
  assert.deepEqual(groupsOf({ 'https://example.com/groups': ['g'] }, 'https://example.com/groups'), ['g']);
  assert.deepEqual(groupsOf({ realm_access: 'flat' }, 'realm_access.roles'), []);
  assert.deepEqual(groupsOf({ groups: [1, null, 'g'] }, 'groups'), ['g']);
  assert.deepEqual(groupsOf({}, '__proto__.polluted'), []);
});

test('groups from a nested claim (realm_access.roles, Keycloak style), end to end', async (t) => {
  const auth = createJwtAuthenticator(configFor({ MCP_AUTH_JWT_SECRET: SECRET, MCP_AUTH_JWT_GROUPS_CLAIM: 'realm_access.roles', MCP_AUTH_JWT_REQUIRED_GROUPS: 'mcp-users' }));
  t.after(() => auth.close());
  const exp = Math.floor(Date.now() / 1000) + 300;
  const ok = mintToken({ alg: 'HS256', typ: 'JWT' }, { aud: RESOURCE, sub: 'alice', exp, realm_access: { roles: ['mcp-users'] } }, { hmac: SECRET });
  const r = await auth.authenticate(`Bearer ${ok}`);
  assert.equal(r.ok, true);
  if (r.ok) assert.deepEqual(r.identity.groups, ['mcp-users']);
  const no = mintToken({ alg: 'HS256' }, { aud: RESOURCE, sub: 'alice', exp, groups: ['mcp-users'] }, { hmac: SECRET });
  assert.equal((await auth.authenticate(`Bearer ${no}`)).ok, false);
});

test('shared secret: HS256 by default; an RS256 token or another secret is refused', async (t) => {
  const auth = createJwtAuthenticator(configFor({ MCP_AUTH_JWT_SECRET: SECRET }));
  t.after(() => auth.close());
  const exp = Math.floor(Date.now() / 1000) + 300;
  assert.equal((await auth.authenticate(`Bearer ${mintToken({ alg: 'HS256' }, { aud: RESOURCE, sub: 'a', exp }, { hmac: SECRET })}`)).ok, true);
  const wrong = await auth.authenticate(`Bearer ${mintToken({ alg: 'HS256' }, { aud: RESOURCE, sub: 'a', exp }, { hmac: `${SECRET}x` })}`);
  assert.equal(!wrong.ok && wrong.reason, 'bad_signature');
  const rsa = await auth.authenticate(`Bearer ${mintToken({ alg: 'RS256' }, { aud: RESOURCE, sub: 'a', exp }, rsaKey('k').privateKey)}`);
  assert.equal(!rsa.ok && rsa.reason, 'bad_algorithm');
});

test('algorithms: defaults per key source; HS* never with a JWKS, RS* never with a secret', () => {
  assert.deepEqual(resolveAlgorithms({ jwtAlgorithms: undefined, jwtSecret: undefined }), ['RS256', 'PS256', 'ES256', 'EdDSA']);
  assert.deepEqual(resolveAlgorithms({ jwtAlgorithms: undefined, jwtSecret: SECRET }), ['HS256']);
  // loadConfig refuses them, with every other bad setting (exit 2), before any authenticator exists.
  assert.throws(() => configFor({ MCP_AUTH_JWT_ISSUER: 'https://idp.example.test', MCP_AUTH_JWT_ALGORITHMS: 'RS256,HS256' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /MCP_AUTH_JWT_ALGORITHMS: got "RS256,HS256"; expected only asymmetric algorithms/);
    return true;
  });
  assert.throws(() => configFor({ MCP_AUTH_JWT_SECRET: SECRET, MCP_AUTH_JWT_ALGORITHMS: 'RS256' }), /expected only HS256, HS384 or HS512/);
});

/**
 * Keys from a real IdP (oidc-provider, test/helpers/idp.ts): discovery, rotation with one refetch,
 * the refetch cooldown under a flood of random kids, an IdP that is down or never answers, and
 * the verified-token cache. A fake clock drives token times and the cooldown; nothing is timed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { loadConfig, type Config } from '../../../sidecar/config.ts';
import { ERR } from '../../../sidecar/errors.ts';
import { createJwtAuthenticator, type AuthResult, type JwtAuthenticatorDeps } from '../../../sidecar/auth/jwt.ts';
import { mintToken, rsaKey, startIdp, startJwksServer, type Idp } from '../../helpers/idp.ts';

const RESOURCE = 'http://127.0.0.1:1/mcp';
const COOLDOWN_MS = 30_000;
let idp: Idp;

function configFor(env: Record<string, string>): Config {
  return loadConfig({
    env: { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1', MCP_AUTH_JWT_AUDIENCE: RESOURCE, MCP_AUTH_RESOURCE_URL: RESOURCE, MCP_AUTH_JWT_JWKS_COOLDOWN_MS: String(COOLDOWN_MS), ...env },
    readFile: () => assert.fail('no files'),
  });
}

/** An authenticator on a clock the test moves. */
function build(env: Record<string, string>, deps: JwtAuthenticatorDeps = {}) {
  const clock = { ms: Date.now() };
  const failures: string[] = [];
  const auth = createJwtAuthenticator(configFor(env), { now: () => clock.ms, onFailure: (r) => failures.push(r), ...deps });
  return { auth, clock, failures };
}

function assertRefused(r: AuthResult, status: number, reason: string): void {
  assert.equal(r.ok, false, 'must be refused');
  if (r.ok) return;
  assert.equal(r.reply.status, status);
  assert.equal(r.reason, reason);
}

before(async () => {
  idp = await startIdp({ audience: RESOURCE });
});
after(() => idp.stop());

test('discovery -> JWKS -> a real at+jwt from oidc-provider verifies into an Identity', async (t) => {
  const { auth } = build({ MCP_AUTH_JWT_ISSUER: idp.issuer });
  t.after(() => auth.close());
  const hitsBefore = idp.hits['/.well-known/openid-configuration'] ?? 0;
  const r = await auth.authenticate(`Bearer ${await idp.token({ scope: 'mcp:read mcp:write', groups: ['mcp-users'] })}`);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  const id = r.identity;
  const expectedId = `jwt:${createHash('sha256').update(`${idp.issuer}\0${idp.clientId}`).digest('hex').slice(0, 16)}`;
  assert.deepEqual({ ...id, expiresAt: typeof id.expiresAt }, { kind: 'jwt', id: expectedId, subject: idp.clientId, issuer: idp.issuer, groups: ['mcp-users'], scopes: ['mcp:read', 'mcp:write'], expiresAt: 'number' });
  assert.deepEqual(auth.stats(), { cacheHits: 0, keyLookups: 1, discoveryFetches: 1, jwksFetches: 1 });
  assert.equal(idp.hits['/.well-known/openid-configuration'], hitsBefore + 1);
});

test('a token for another resource (RFC 8707 audience) is refused', async (t) => {
  const { auth } = build({ MCP_AUTH_JWT_ISSUER: idp.issuer });
  t.after(() => auth.close());
  assertRefused(await auth.authenticate(`Bearer ${await idp.token({ resource: 'https://other.example.test/mcp' })}`), 401, 'bad_audience');
});

test('key rotation: new kid refused within the cooldown, accepted after exactly one refetch', async (t) => {
  const rot = await startIdp({ audience: RESOURCE });
  t.after(() => rot.stop());
  const { auth, clock } = build({ MCP_AUTH_JWT_ISSUER: rot.issuer });
  t.after(() => auth.close());
  assert.equal((await auth.authenticate(`Bearer ${await rot.token()}`)).ok, true);
  const fetched = auth.stats().jwksFetches;
  const jwksHits = rot.hits['/jwks'];

  const newKid = await rot.rotateKeys();
  const fresh = await rot.token();
  assert.match(fresh, /^ey/);
  // Right after the first fetch the cooldown holds: unknown kid, no fetch.
  assertRefused(await auth.authenticate(`Bearer ${fresh}`), 401, 'unknown_kid');
  assert.equal(auth.stats().jwksFetches, fetched);

  clock.ms += COOLDOWN_MS;
  const r = await auth.authenticate(`Bearer ${fresh}`);
  assert.equal(r.ok, true, `token signed with ${newKid} after one refetch`);
  assert.equal(auth.stats().jwksFetches, fetched + 1);
  assert.equal(rot.hits['/jwks'], jwksHits! + 1);
});

test('a flood of random kids causes at most one fetch per cooldown', async (t) => {
  const { auth, clock } = build({ MCP_AUTH_JWT_ISSUER: idp.issuer });
  t.after(() => auth.close());
  assert.equal(await auth.warm(), true);
  const forger = rsaKey('unused');
  const exp = Math.floor(clock.ms / 1000) + 300;
  const randomKid = (i: number) => mintToken({ alg: 'RS256', kid: `rand-${i}-${Math.random()}` }, { iss: idp.issuer, aud: RESOURCE, sub: 'x', exp }, forger.privateKey);

  clock.ms += COOLDOWN_MS; // a refetch is allowed again
  const start = auth.stats().jwksFetches;
  const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => auth.authenticate(`Bearer ${randomKid(i)}`)));
  for (const r of burst) assertRefused(r, 401, 'unknown_kid');
  assert.equal(auth.stats().jwksFetches, start + 1, 'concurrent unknown kids share one fetch');

  for (let i = 0; i < 50; i++) assertRefused(await auth.authenticate(`Bearer ${randomKid(100 + i)}`), 401, 'unknown_kid');
  assert.equal(auth.stats().jwksFetches, start + 1, 'no further fetch within the cooldown');

  clock.ms += COOLDOWN_MS;
  for (let i = 0; i < 20; i++) assertRefused(await auth.authenticate(`Bearer ${randomKid(200 + i)}`), 401, 'unknown_kid');
  assert.equal(auth.stats().jwksFetches, start + 2, 'one more fetch in the next cooldown window');
});

test('IdP down: known keys keep working, unknown kids are refused (503, never allowed)', async (t) => {
  const dn = await startIdp({ audience: RESOURCE });
  t.after(() => dn.stop());
  // Cache off, so every call really checks a signature with the cached key.
  const { auth, clock, failures } = build({ MCP_AUTH_JWT_ISSUER: dn.issuer, MCP_AUTH_JWT_CACHE_MAX_ENTRIES: '0' });
  t.after(() => auth.close());
  const known = await dn.token();
  assert.equal((await auth.authenticate(`Bearer ${known}`)).ok, true);
  await dn.rotateKeys();
  const unknown = await dn.token();

  dn.setDown(true);
  clock.ms += COOLDOWN_MS;
  const lookups = auth.stats().keyLookups;
  const r = await auth.authenticate(`Bearer ${unknown}`);
  assertRefused(r, 503, 'idp_unavailable');
  if (!r.ok) {
    assert.equal(r.reply.code, ERR.AUTH_IDP_UNAVAILABLE);
    assert.match(r.reply.headers?.['retry-after'] ?? '', /^\d+$/);
  }
  assert.equal(failures.at(-1), 'idp_unavailable');
  // Within the cooldown after the failed fetch: still refused, still unavailable (we cannot tell).
  assertRefused(await auth.authenticate(`Bearer ${unknown}`), 503, 'idp_unavailable');
  for (let i = 0; i < 3; i++) assert.equal((await auth.authenticate(`Bearer ${known}`)).ok, true, 'known key still verifies');
  assert.equal(auth.stats().keyLookups, lookups + 5);

  dn.setDown(false);
  clock.ms += COOLDOWN_MS;
  assert.equal((await auth.authenticate(`Bearer ${unknown}`)).ok, true, 'accepted once the IdP is back');
});

test('IdP down at start: refused meanwhile, discovery retried on a later request', async (t) => {
  const late = await startIdp({ audience: RESOURCE });
  t.after(() => late.stop());
  const token = await late.token();
  late.setDown(true);
  const { auth, clock } = build({ MCP_AUTH_JWT_ISSUER: late.issuer });
  t.after(() => auth.close());
  assert.equal(await auth.warm(), false);
  assertRefused(await auth.authenticate(`Bearer ${token}`), 503, 'idp_unavailable');
  const attempts = late.hits['/.well-known/openid-configuration'];
  // Requests right after a failed attempt do not hammer the IdP.
  for (let i = 0; i < 10; i++) assertRefused(await auth.authenticate(`Bearer ${token}`), 503, 'idp_unavailable');
  assert.equal(late.hits['/.well-known/openid-configuration'], attempts);

  late.setDown(false);
  clock.ms += 1_000;
  assert.equal((await auth.authenticate(`Bearer ${token}`)).ok, true);
});

test('a JWKS server that never answers is bounded by the timeout and refuses', async (t) => {
  const key = rsaKey('k1');
  const slow = await startJwksServer([key.jwk]);
  t.after(() => slow.stop());
  slow.setMode('hang');
  const { auth } = build({ MCP_AUTH_JWT_ISSUER: 'https://idp.example.test', MCP_AUTH_JWT_JWKS_URL: slow.jwksUrl, MCP_AUTH_JWT_JWKS_TIMEOUT_MS: '100' });
  t.after(() => auth.close());
  const token = mintToken({ alg: 'RS256', kid: 'k1' }, { iss: 'https://idp.example.test', aud: RESOURCE, sub: 'a', exp: Math.floor(Date.now() / 1000) + 300 }, key.privateKey);
  assertRefused(await auth.authenticate(`Bearer ${token}`), 503, 'idp_unavailable');
  assert.equal(slow.requests.length, 1, 'the request reached the slow server');
});

test('discovery that never answers is bounded too', async (t) => {
  const slow = await startJwksServer([]);
  t.after(() => slow.stop());
  slow.setMode('hang');
  const { auth } = build({ MCP_AUTH_JWT_ISSUER: slow.url, MCP_AUTH_JWT_JWKS_TIMEOUT_MS: '100' });
  t.after(() => auth.close());
  const token = mintToken({ alg: 'RS256', kid: 'k1' }, { iss: slow.url, aud: RESOURCE, sub: 'a', exp: Math.floor(Date.now() / 1000) + 300 }, rsaKey('k1').privateKey);
  assertRefused(await auth.authenticate(`Bearer ${token}`), 503, 'idp_unavailable');
  assert.deepEqual(slow.requests, ['/.well-known/openid-configuration']);
});

test('discovery whose issuer differs from the configured one is never trusted', async (t) => {
  const key = rsaKey('k1');
  const fake = await startJwksServer([key.jwk]);
  t.after(() => fake.stop());
  fake.setDiscoveryIssuer(`${fake.url}/`); // one trailing slash is already a different issuer
  const { auth } = build({ MCP_AUTH_JWT_ISSUER: fake.url });
  t.after(() => auth.close());
  const token = mintToken({ alg: 'RS256', kid: 'k1' }, { iss: fake.url, aud: RESOURCE, sub: 'a', exp: Math.floor(Date.now() / 1000) + 300 }, key.privateKey);
  assertRefused(await auth.authenticate(`Bearer ${token}`), 503, 'idp_unavailable');
  assert.deepEqual(fake.requests, ['/.well-known/openid-configuration'], 'the JWKS it names is never fetched');
});

test('cache: a second check of the same token skips the key resolver; an expired cached token is refused', async (t) => {
  const { auth, clock } = build({ MCP_AUTH_JWT_ISSUER: idp.issuer });
  t.after(() => auth.close());
  const token = await idp.token();
  assert.equal((await auth.authenticate(`Bearer ${token}`)).ok, true);
  const { keyLookups } = auth.stats();
  for (let i = 0; i < 5; i++) assert.equal((await auth.authenticate(`Bearer ${token}`)).ok, true);
  assert.equal(auth.stats().keyLookups, keyLookups, 'no key lookup for a cached token');
  assert.equal(auth.stats().cacheHits, 5);

  // oidc-provider tokens live 600 s here; past exp + 60 s of skew the cache must not serve it.
  clock.ms += 661_000;
  assertRefused(await auth.authenticate(`Bearer ${token}`), 401, 'expired');
  assert.equal(auth.stats().cacheHits, 5);
});

test('cache: a token that fails authorization is still refused when cached', async (t) => {
  const { auth } = build({ MCP_AUTH_JWT_ISSUER: idp.issuer, MCP_AUTH_JWT_REQUIRED_SCOPES: 'mcp:admin' });
  t.after(() => auth.close());
  const token = await idp.token({ scope: 'mcp:read' });
  assertRefused(await auth.authenticate(`Bearer ${token}`), 403, 'insufficient_scope');
  assertRefused(await auth.authenticate(`Bearer ${token}`), 403, 'insufficient_scope');
  assert.equal(auth.stats().cacheHits, 1);
});

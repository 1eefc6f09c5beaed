/**
 * THREATS.md, JWT attack table: every hostile token is refused with 401, `error="invalid_token"`
 * and a reason for the metric; none causes a request to any server. Tokens are made by hand
 * (test/helpers/idp.ts mintToken) and keys served by a real JWKS server on loopback.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../sidecar/config.ts';
import { ERR } from '../../../sidecar/errors.ts';
import { createJwtAuthenticator, type AuthResult, type JwtAuthenticator } from '../../../sidecar/auth/jwt.ts';
import { authorizationFromRawHeaders } from '../../../sidecar/auth/jwt-bearer.ts';
import { mintToken, rsaKey, startJwksServer, type JwksServer } from '../../helpers/idp.ts';

const ISSUER = 'https://idp.example.test/realms/mcp';
const RESOURCE = 'https://mcp.example.test/mcp';
const METADATA = 'https://mcp.example.test/.well-known/oauth-protected-resource/mcp';
const NOW = 1_800_000_000;

const key = rsaKey('key-1');
const attacker = rsaKey('key-1'); // same kid, different key: only the signature tells them apart
let jwks: JwksServer;
let evil: JwksServer; // what jku/x5u point at: must never be contacted
let auth: JwtAuthenticator;
const failures: string[] = [];

const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ iss: ISSUER, aud: RESOURCE, sub: 'alice', iat: NOW, exp: NOW + 300, ...extra });
const header = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: 'RS256', typ: 'at+jwt', kid: 'key-1', ...extra });
const good = (h: Record<string, unknown> = {}, c: Record<string, unknown> = {}): string => mintToken(header(h), claims(c), key.privateKey);

before(async () => {
  jwks = await startJwksServer([key.jwk]);
  evil = await startJwksServer([attacker.jwk]);
  const config = loadConfig({
    env: { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1', MCP_AUTH_JWT_ISSUER: ISSUER, MCP_AUTH_JWT_JWKS_URL: jwks.jwksUrl, MCP_AUTH_JWT_AUDIENCE: RESOURCE, MCP_AUTH_RESOURCE_URL: RESOURCE },
    readFile: () => assert.fail('no files'),
  });
  auth = createJwtAuthenticator(config, { now: () => NOW * 1000, onFailure: (r) => failures.push(r) });
  assert.equal(await auth.warm(), true);
});
after(async () => {
  auth.close();
  await jwks.stop();
  await evil.stop();
});

/** Refused with 401 invalid_token and `reason`; no server saw a request; nothing echoed. */
async function refused(authorization: string | string[], reason: string): Promise<void> {
  const seen = jwks.requests.length;
  const r: AuthResult = await auth.authenticate(authorization);
  assert.equal(r.ok, false, 'token must be refused');
  if (r.ok) return;
  assert.equal(r.reply.status, 401);
  assert.equal(r.reply.code, ERR.AUTH_INVALID_TOKEN);
  assert.equal(r.reason, reason);
  assert.equal(failures.at(-1), reason);
  const challenge = r.reply.headers?.['www-authenticate'] ?? '';
  assert.match(challenge, new RegExp(`^Bearer realm="mcp-warden", resource_metadata="${METADATA}", error="invalid_token", error_description="[^"]+"$`));
  const echoed = JSON.stringify(r.reply);
  for (const value of [authorization].flat()) {
    for (const part of value.replace(/^bearer /i, '').split('.')) if (part.length > 8) assert.ok(!echoed.includes(part), 'a part of the token was echoed');
  }
  assert.deepEqual(r.reply.body && Object.keys(r.reply.body), ['error', 'message']);
  assert.equal(jwks.requests.length, seen, 'no JWKS fetch');
  assert.deepEqual(evil.requests, [], 'no request to a server the token named');
}

test('control: a well-formed token is accepted (so every refusal below is about its one defect)', async () => {
  for (const typ of ['at+jwt', 'JWT', undefined]) {
    const r = await auth.authenticate(`Bearer ${good({ typ })}`);
    assert.equal(r.ok, true, `typ ${typ}`);
  }
  // lower-case scheme (RFC 9110 11.1: auth schemes are case-insensitive)
  assert.equal((await auth.authenticate(`bearer ${good({}, { sub: 'bob' })}`)).ok, true);
});

for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
  test(`alg "${alg}" with an empty signature`, () => refused(`Bearer ${mintToken(header({ alg }), claims(), 'none')}`, 'bad_algorithm'));
}

test('key confusion: HS256 signed with the RSA public key as HMAC secret', () => {
  const pem = key.publicKey.export({ format: 'pem', type: 'spki' });
  return refused(`Bearer ${mintToken(header({ alg: 'HS256' }), claims(), { hmac: pem })}`, 'bad_algorithm');
});

test('unknown crit extension', () => refused(`Bearer ${good({ crit: ['urn:example:must-understand'], 'urn:example:must-understand': true })}`, 'forbidden_header'));

test('jku pointing at an attacker JWKS: refused, never fetched', () => refused(`Bearer ${mintToken(header({ jku: evil.jwksUrl }), claims(), attacker.privateKey)}`, 'forbidden_header'));

test('x5u pointing at an attacker URL: refused, never fetched', () => refused(`Bearer ${mintToken(header({ x5u: `${evil.url}/cert.pem` }), claims(), attacker.privateKey)}`, 'forbidden_header'));

test('embedded jwk (the attacker signs with the key it ships)', () => refused(`Bearer ${mintToken(header({ jwk: attacker.jwk }), claims(), attacker.privateKey)}`, 'forbidden_header'));

test('embedded x5c certificate chain', () => refused(`Bearer ${mintToken(header({ x5c: ['MIIB'] }), claims(), attacker.privateKey)}`, 'forbidden_header'));

test('same kid, other key: bad signature', () => refused(`Bearer ${mintToken(header(), claims(), attacker.privateKey)}`, 'bad_signature'));

test('payload changed after signing', () => {
  const [h, , s] = good().split('.');
  const forged = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
  return refused(`Bearer ${h}.${forged}.${s}`, 'bad_signature');
});

test('hostile kid: path traversal is only a map lookup (unknown kid, no fetch within the cooldown)', () => refused(`Bearer ${good({ kid: '../../../../etc/passwd' })}`, 'unknown_kid'));

test("hostile kid: SQL is only a map lookup", () => refused(`Bearer ${good({ kid: "' OR '1'='1'; DROP TABLE keys; --" })}`, 'unknown_kid'));

test('hostile kid: 10 KB long', () => refused(`Bearer ${good({ kid: 'k'.repeat(10 * 1024) })}`, 'malformed'));

test('hostile kid: 1 KB long (under the token cap, over the kid cap)', () => refused(`Bearer ${good({ kid: 'k'.repeat(1024) })}`, 'malformed'));

test('hostile kid: control characters', () => refused(`Bearer ${good({ kid: 'key-1\u0000\r\nX-Injected: 1' })}`, 'malformed'));

test('missing exp', () => refused(`Bearer ${mintToken(header(), { iss: ISSUER, aud: RESOURCE, sub: 'alice', iat: NOW }, key.privateKey)}`, 'missing_claim'));

test('exp past the clock skew (60 s)', () => refused(`Bearer ${good({}, { exp: NOW - 61 })}`, 'expired'));

test('exp within the clock skew is accepted', async () => {
  assert.equal((await auth.authenticate(`Bearer ${good({}, { exp: NOW - 59, sub: 'skew-exp' })}`)).ok, true);
});

test('nbf beyond the clock skew', () => refused(`Bearer ${good({}, { nbf: NOW + 61 })}`, 'not_yet_valid'));

test('nbf within the clock skew is accepted', async () => {
  assert.equal((await auth.authenticate(`Bearer ${good({}, { nbf: NOW + 59, sub: 'skew-nbf' })}`)).ok, true);
});

test('iat a year in the future', () => refused(`Bearer ${good({}, { iat: NOW + 365 * 86_400, sub: 'iat-year' })}`, 'not_yet_valid'));

test('iat beyond the clock skew (60 s)', () => refused(`Bearer ${good({}, { iat: NOW + 61, sub: 'iat-61' })}`, 'not_yet_valid'));

test('iat within the clock skew is accepted', async () => {
  assert.equal((await auth.authenticate(`Bearer ${good({}, { iat: NOW + 59, sub: 'skew-iat' })}`)).ok, true);
});

test('wrong iss', () => refused(`Bearer ${good({}, { iss: 'https://evil.example.test/realms/mcp' })}`, 'bad_issuer'));

test('iss differing only by a trailing slash', () => refused(`Bearer ${good({}, { iss: `${ISSUER}/` })}`, 'bad_issuer'));

test('missing iss', () => refused(`Bearer ${mintToken(header(), { aud: RESOURCE, sub: 'alice', exp: NOW + 300 }, key.privateKey)}`, 'missing_claim'));

test('missing aud', () => refused(`Bearer ${mintToken(header(), { iss: ISSUER, sub: 'alice', exp: NOW + 300 }, key.privateKey)}`, 'missing_claim'));

test('foreign aud (a token for another resource)', () => refused(`Bearer ${good({}, { aud: ['https://other.example.test/mcp'] })}`, 'bad_audience'));

test('missing sub', () => refused(`Bearer ${mintToken(header(), { iss: ISSUER, aud: RESOURCE, exp: NOW + 300 }, key.privateKey)}`, 'missing_claim'));

test('typ of another kind of JWT (dpop+jwt)', () => refused(`Bearer ${good({ typ: 'dpop+jwt' })}`, 'bad_type'));

test('typ of a security event token (secevent+jwt)', () => refused(`Bearer ${good({ typ: 'secevent+jwt' })}`, 'bad_type'));

test('malformed: only two parts', () => refused(`Bearer ${good().split('.').slice(0, 2).join('.')}`, 'malformed'));

test('malformed: no dots at all', () => refused('Bearer abcdefghijklmnopqrstuvwxyz', 'malformed'));

test('malformed: five parts (JWE)', () => refused(`Bearer ${good()}.aaaa.bbbb`, 'malformed'));

test('malformed: header is not base64url JSON', () => refused(`Bearer ${Buffer.from('{"alg":').toString('base64url')}.${good().split('.').slice(1).join('.')}`, 'malformed'));

test('malformed: standard base64 characters in the signature', () => refused(`Bearer ${good().slice(0, -4)}+/+/`, 'malformed'));

test('malformed: token over 8 KB', () => refused(`Bearer ${good({}, { pad: 'x'.repeat(9000) })}`, 'malformed'));

test('two Authorization headers, even when both carry valid tokens', () => refused([`Bearer ${good()}`, `Bearer ${good({}, { sub: 'bob' })}`], 'duplicate_header'));

test('authorizationFromRawHeaders sees duplicates that req.headers hides', () => {
  assert.deepEqual(authorizationFromRawHeaders(['Host', 'x', 'Authorization', 'Bearer a', 'authorization', 'Bearer b']), ['Bearer a', 'Bearer b']);
  assert.equal(authorizationFromRawHeaders(['AUTHORIZATION', 'Bearer a']), 'Bearer a');
  assert.equal(authorizationFromRawHeaders(['Host', 'x']), undefined);
});

test('another scheme (Basic) in Authorization', () => refused('Basic YWxpY2U6cGFzc3dvcmQ=', 'bad_scheme'));

test('two tokens in one header', () => refused(`Bearer ${good()}, Bearer ${good({}, { sub: 'bob' })}`, 'bad_scheme'));

test('no Authorization header: 401 without an error code (RFC 6750 3.1), no failure counted', async () => {
  const before = failures.length;
  const r = await auth.authenticate(undefined);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.reply.status, 401);
  assert.equal(r.reply.code, ERR.AUTH_MISSING);
  assert.equal(r.reply.headers?.['www-authenticate'], `Bearer realm="mcp-warden", resource_metadata="${METADATA}"`);
  assert.equal(failures.length, before);
});

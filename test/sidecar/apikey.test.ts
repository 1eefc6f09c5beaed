/** Acceptance 2: API-key authentication at the HTTP edge, against a recording upstream. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../helpers/sidecar.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { until } from '../helpers/wait.ts';

const EXACT_401 = '{"error":"Unauthorized","message":"Invalid API key"}';
const KEY = 'k-primary-4d8e1f2a9b3c';
const OLD = 'k-rotating-out-77aa';

describe('API key auth', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    up = await startUpstream();
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: `${KEY},${OLD}` });
  });
  after(async () => {
    await sc.close();
    await up.close();
  });

  for (const arguments_ of [
    ['no key', {}],
    ['a wrong key', { 'x-api-key': 'nope' }],
    ['an empty header', { 'x-api-key': '' }],
    ['a key with a suffix', { 'x-api-key': `${KEY}x` }],
    ['a key prefix', { 'x-api-key': KEY.slice(0, -1) }],
    ['the key in another header', { 'x-api-keys': KEY }],
    ['the key in the query string', {}, `?x-api-key=${KEY}&api_key=${KEY}`],
  ] as [string, Record<string, string>, string?][]) {
    const [name, headers, query] = arguments_;
    test(`${name}: 401 with the exact body, upstream untouched`, async () => {
      const before = up.seen.length;
      const res = await fetch(`${sc.url}/mcp${query ?? ''}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(await res.text(), EXACT_401);
      assert.equal(up.seen.length, before);
    });
  }

  test('the right key under any casing of the header name passes; the key never reaches the upstream', async () => {
    for (const name of ['X-API-Key', 'x-api-key', 'X-Api-Key', 'X-API-KEY', 'x-ApI-kEy']) {
      // fetch lower-cases header names, so send the exact casing on a raw socket.
      const res = await rawRequest(sc.url, `GET /mcp HTTP/1.1\r\nHost: x\r\n${name}: ${KEY}\r\nConnection: close\r\n\r\n`);
      assert.equal(res.status, 200, name);
      const seen = up.seen.at(-1)!;
      assert.equal(seen.headers['x-api-key'], undefined);
      assert.ok(!JSON.stringify(seen.headers).includes(KEY));
    }
  });

  test('every configured key is valid (rotation)', async () => {
    for (const k of [KEY, OLD]) {
      const res = await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': k } });
      assert.equal(res.status, 200);
    }
  });

  test('keys never appear in logs; the log line carries a key id instead', async () => {
    await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': KEY } });
    await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': 'wrong-key-xyz' } });
    assert.ok(!sc.rawLogs().includes(KEY) && !sc.rawLogs().includes('wrong-key-xyz'));
    const line = sc.logs.filter((l) => l.msg === 'request' && l.status === 200).at(-1)!;
    assert.match(String(line.id), /^key:[0-9a-f]{12}$/);
    assert.equal(line.path, '/mcp');
  });

  test('two Authorization headers: 400, never forwarded', async () => {
    const before = up.seen.length;
    const res = await rawRequest(sc.url, `GET /mcp HTTP/1.1\r\nHost: x\r\nX-API-Key: ${KEY}\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n`);
    assert.equal(res.status, 400);
    assert.equal(up.seen.length, before);
  });
});

describe('API key in the Authorization header', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    up = await startUpstream();
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_HEADER: 'Authorization' });
  });
  after(async () => {
    await sc.close();
    await up.close();
  });
  test('bare key and Bearer <key> both pass; Authorization is not forwarded', async () => {
    for (const v of [KEY, `Bearer ${KEY}`, `bearer ${KEY}`]) {
      const res = await fetch(`${sc.url}/mcp`, { headers: { authorization: v } });
      assert.equal(res.status, 200, v);
      assert.equal(up.seen.at(-1)!.headers.authorization, undefined);
    }
    const res = await fetch(`${sc.url}/mcp`, { headers: { authorization: `Basic ${KEY}` } });
    assert.equal(res.status, 401);
  });
});

describe('API key file', () => {
  test('re-read when the mounted Secret changes (symlink swap); a broken file keeps the last keys', async () => {
    // Lay the file out as the kubelet does: data dir, ..data symlink, key symlink through it.
    const dir = mkdtempSync(join(tmpdir(), 'warden-keys-'));
    const v1 = join(dir, '..v1');
    const v2 = join(dir, '..v2');
    mkdirSync(v1);
    mkdirSync(v2);
    writeFileSync(join(v1, 'mcp-auth-key'), 'first-key-1111\n');
    writeFileSync(join(v2, 'mcp-auth-key'), '# rotated\nsecond-key-2222\n\n');
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/mcp-auth-key', join(dir, 'mcp-auth-key'));
    const up = await startUpstream();
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY_FILE: join(dir, 'mcp-auth-key') });
    try {
      const status = async (k: string) => (await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': k } })).status;
      assert.equal(await status('first-key-1111'), 200);
      assert.equal(await status('second-key-2222'), 401);
      // Atomic swap of ..data, as the kubelet does.
      symlinkSync('..v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await until(async () => (await status('second-key-2222')) === 200, 'the new key to work without a restart');
      assert.equal(await status('first-key-1111'), 401, 'the old key stops working');
      // A broken rotation (file gone) keeps the keys in force.
      rmSync(join(dir, '..v2'), { recursive: true });
      await until(() => sc.logs.some((l) => l.msg === 'API key file not used'), 'the failed reload to be logged');
      assert.equal(await status('second-key-2222'), 200, 'the last good keys stay in force');
      assert.ok(!sc.rawLogs().includes('second-key-2222') && !sc.rawLogs().includes('first-key-1111'));
    } finally {
      await sc.close();
      await up.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('no key configured', () => {
  test('auth is off and the start says so', async () => {
    const { describeAuth } = await import('../../sidecar/startup.ts');
    const { loadConfig } = await import('../../sidecar/config.ts');
    const cfg = loadConfig({ env: { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1' }, readFile: () => '' });
    assert.equal(describeAuth(cfg).warning, 'Authentication disabled - MCP_AUTH_KEY not set');
  });
});

describe('MCP_AUTH_FORWARD_IDENTITY', () => {
  test('the upstream gets the caller as X-MCP-Auth-Subject and X-MCP-Auth-Groups; forged copies never pass', async () => {
    const { SignJWT } = await import('jose');
    const secret = 'forward-identity-shared-secret-0123456789';
    const up = await startUpstream();
    const sc = await startSidecar({
      MCP_AUTH_UPSTREAM_URL: up.url,
      MCP_AUTH_KEY: KEY,
      MCP_AUTH_JWT_SECRET: secret,
      MCP_AUTH_JWT_ISSUER: 'https://idp.example',
      MCP_AUTH_JWT_AUDIENCE: 'mcp',
      MCP_AUTH_RESOURCE_URL: 'https://mcp.example/mcp',
      MCP_AUTH_FORWARD_IDENTITY: 'true',
    });
    try {
      const token = await new SignJWT({ groups: ['mcp.users', 'ops,team'] })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
        .setIssuer('https://idp.example')
        .setAudience('mcp')
        .setSubject('alice@example')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(secret));
      const forged = { 'x-mcp-auth-subject': 'admin', 'x-mcp-auth-groups': 'admins' };
      let res = await fetch(`${sc.url}/mcp`, { headers: { authorization: `Bearer ${token}`, ...forged } });
      assert.equal(res.status, 200);
      let h = up.seen.at(-1)!.headers;
      assert.equal(h['x-mcp-auth-subject'], 'alice@example');
      assert.equal(h['x-mcp-auth-groups'], 'mcp.users,ops%2Cteam');
      assert.equal(h.authorization, undefined, 'the token is never passed upstream');

      res = await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': KEY, ...forged } });
      assert.equal(res.status, 200);
      h = up.seen.at(-1)!.headers;
      assert.match(String(h['x-mcp-auth-subject']), /^key:[0-9a-f]{12}$/);
      assert.equal(h['x-mcp-auth-groups'], '');

      res = await fetch(`${sc.url}/mcp`, { headers: forged });
      assert.equal(res.status, 401);
    } finally {
      await sc.close();
      await up.close();
    }
  });
});

describe('MCP_AUTH_MODE with both credentials configured', () => {
  const secret = 'mode-any-shared-secret-0123456789abcdef';
  const jwtEnv = { MCP_AUTH_JWT_SECRET: secret, MCP_AUTH_JWT_ISSUER: 'https://idp.example', MCP_AUTH_JWT_AUDIENCE: 'mcp', MCP_AUTH_RESOURCE_URL: 'https://mcp.example/mcp' };
  const token = async () => {
    const { SignJWT } = await import('jose');
    return new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.example').setAudience('mcp').setSubject('bob').setExpirationTime('5m').sign(new TextEncoder().encode(secret));
  };

  test('any (the default with both): either credential passes; none gets the Bearer challenge', async () => {
    const up = await startUpstream();
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, ...jwtEnv });
    try {
      assert.equal(sc.config.auth, 'any');
      assert.equal((await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': KEY } })).status, 200);
      assert.equal((await fetch(`${sc.url}/mcp`, { headers: { authorization: `Bearer ${await token()}` } })).status, 200);
      const none = await fetch(`${sc.url}/mcp`);
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="mcp-warden", resource_metadata="https:\/\/mcp\.example\/\.well-known\/oauth-protected-resource\/mcp"/);
      const wrongKey = await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': 'wrong', authorization: `Bearer ${await token()}` } });
      assert.equal(wrongKey.status, 401, 'a wrong key is refused even next to a good token');
      assert.equal(up.seen.filter((s) => s.headers.authorization !== undefined || s.headers['x-api-key'] !== undefined).length, 0, 'no credential is forwarded');
    } finally {
      await sc.close();
      await up.close();
    }
  });

  test('jwt: the API key alone is not accepted', async () => {
    const up = await startUpstream();
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_MODE: 'jwt', ...jwtEnv });
    try {
      assert.equal((await fetch(`${sc.url}/mcp`, { headers: { 'x-api-key': KEY } })).status, 401);
      assert.equal((await fetch(`${sc.url}/mcp`, { headers: { authorization: `Bearer ${await token()}`, 'x-api-key': KEY } })).status, 200);
      assert.equal(up.seen.at(-1)!.headers['x-api-key'], undefined, 'the key header is dropped even where keys are not accepted');
    } finally {
      await sc.close();
      await up.close();
    }
  });
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientIp, parseTrustedProxies } from '../../../sidecar/limit/client-ip.ts';
import { createRateLimiter } from '../../../sidecar/limit/limiter.ts';
import { ConfigError } from '../../../sidecar/errors.ts';
import { limiterConfig, makeCtx } from './helpers.ts';

const trusted = parseTrustedProxies(['10.0.0.0/8', '2001:db8:ffff::/48', '192.0.2.10']);
const none = parseTrustedProxies([]);

test('client IP: table', () => {
  const rows: [peer: string, xff: string | string[] | undefined, want: string, why: string][] = [
    ['203.0.113.9', '1.2.3.4', '203.0.113.9', 'untrusted peer: XFF ignored'],
    ['::ffff:203.0.113.9', undefined, '203.0.113.9', 'IPv4-mapped peer normalised'],
    ['2001:DB8::0:1', undefined, '2001:db8::1', 'IPv6 peer in RFC 5952 form'],
    ['10.1.1.1', undefined, '10.1.1.1', 'trusted peer, no XFF: the peer'],
    ['10.1.1.1', '198.51.100.4', '198.51.100.4', 'trusted peer: its XFF entry'],
    ['::ffff:10.1.1.1', '198.51.100.4', '198.51.100.4', 'trusted peer seen as mapped IPv6'],
    ['10.1.1.1', '6.6.6.6, 198.51.100.4, 10.2.2.2', '198.51.100.4', 'rightmost untrusted; the client-written 6.6.6.6 ignored'],
    ['10.1.1.1', ['6.6.6.6', '198.51.100.4, 10.2.2.2'], '198.51.100.4', 'repeated headers'],
    ['10.1.1.1', '198.51.100.4 , , 10.2.2.2 ', '198.51.100.4', 'empty elements and spaces'],
    ['10.1.1.1', '198.51.100.4:5555', '198.51.100.4', 'IPv4 with port'],
    ['10.1.1.1', '[2001:db8::7]:443', '2001:db8::7', 'bracketed IPv6 with port'],
    ['10.1.1.1', '::ffff:198.51.100.4', '198.51.100.4', 'mapped XFF entry'],
    ['10.1.1.1', '198.51.100.4, unknown', '10.1.1.1', 'invalid entry: stop at the last trusted hop (the peer)'],
    ['10.1.1.1', '198.51.100.4, garbage, 10.2.2.2', '10.2.2.2', 'invalid entry: the last trusted hop that wrote it'],
    ['10.1.1.1', '10.3.3.3, 10.2.2.2', '10.3.3.3', 'all trusted: the leftmost'],
    ['2001:db8:ffff:1::1', '2001:db8:1::5', '2001:db8:1::5', 'IPv6 trusted proxy'],
    ['192.0.2.10', '198.51.100.4', '198.51.100.4', 'single-host entry'],
    ['192.0.2.11', '198.51.100.4', '192.0.2.11', 'neighbour of a single host is not trusted'],
    ['10.1.1.1', '', '10.1.1.1', 'empty header'],
  ];
  for (const [peer, xff, want, why] of rows) assert.equal(clientIp(peer, xff, trusted), want, why);
  assert.equal(clientIp('10.1.1.1', '198.51.100.4', none), '10.1.1.1', 'no trusted proxies: never XFF');
  // A forged chain of trusted addresses is walked a bounded number of hops.
  const forged = Array.from({ length: 1000 }, () => '10.9.9.9').join(',');
  assert.equal(clientIp('10.1.1.1', `6.6.6.6,${forged}`, trusted), '10.9.9.9');
});

test('trusted proxies: mapped CIDRs count as IPv4; bad entries are all named', () => {
  const t = parseTrustedProxies(['::ffff:10.0.0.0/104']);
  assert.equal(clientIp('10.200.0.1', '198.51.100.4', t), '198.51.100.4');
  assert.equal(clientIp('11.0.0.1', '198.51.100.4', t), '11.0.0.1');
  assert.throws(
    () => parseTrustedProxies(['10.0.0.0/33', 'nope', '10.0.0.0/8', '::/129', '1.2.3.4/8/9']),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.issues.map((i) => i.value), ['"10.0.0.0/33"', '"nope"', '"::/129"', '"1.2.3.4/8/9"']);
      assert.equal(err.issues[0]?.setting, 'MCP_AUTH_TRUSTED_PROXIES');
      return true;
    },
  );
});

/** A real server that runs the IP stage on the resolved client IP. */
function serve(trustedCidrs: string[]): Promise<{ server: Server; port: number }> {
  const t = parseTrustedProxies(trustedCidrs);
  // A frozen clock: no token arrives during the test, however slow the machine.
  const rl = createRateLimiter(limiterConfig({ rateLimitPerIpPerMinute: 30 }), { now: () => 1000 });
  const server = createServer(async (req, res) => {
    const ctx = makeCtx({ ip: clientIp(req.socket.remoteAddress ?? '', req.headers['x-forwarded-for'], t), headers: req.headers });
    const reply = await rl.ipStage!(ctx);
    const headers = { ...ctx.responseHeaders, ...(reply?.headers ?? {}), 'x-client-ip': ctx.clientIp };
    res.writeHead(reply?.status ?? 200, headers).end(JSON.stringify(reply?.body ?? { ok: true }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

function get(port: number, xff: string): Promise<{ status: number; ip: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/mcp', headers: { 'x-forwarded-for': xff }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, ip: String(res.headers['x-client-ip']), retryAfter: res.headers['retry-after'] }));
    })
      .on('error', reject)
      .end();
  });
}

let untrusted: { server: Server; port: number };
let behindProxy: { server: Server; port: number };
before(async () => {
  untrusted = await serve([]);
  behindProxy = await serve(['127.0.0.1/32']);
});
after(() => {
  untrusted.server.close();
  behindProxy.server.close();
});

test('a rotating X-Forwarded-For from an untrusted peer does not escape the per-IP limit', async () => {
  // 30/min: burst 3. Every request claims to come from a different address.
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await get(untrusted.port, `198.51.100.${i + 1}`));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 429, 429, 429]);
  assert.ok(results.every((r) => r.ip === '127.0.0.1'));
  assert.equal(results[3]?.retryAfter, '2');
});

test('behind a trusted proxy, X-Forwarded-For selects the client', async () => {
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await get(behindProxy.port, `6.6.6.6, 198.51.100.${i + 1}`));
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200, 200]);
  assert.deepEqual(results.map((r) => r.ip), [1, 2, 3, 4, 5, 6].map((i) => `198.51.100.${i}`));
  // And one client behind the proxy is still limited, whatever it prepends.
  const same = [];
  for (let i = 0; i < 4; i++) same.push((await get(behindProxy.port, `${i}.${i}.${i}.${i}, 203.0.113.77`)).status);
  assert.deepEqual(same, [200, 200, 200, 429]);
});

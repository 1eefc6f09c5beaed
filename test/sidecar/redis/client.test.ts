/**
 * The Redis client against a real redis-server: deadlines, no stale replies, skipping Redis while
 * it is down, reconnecting by itself, AUTH (password and ACL user), SELECT and TLS.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_ERR, createRedisClient, type RedisClient, type RedisClientOptions } from '../../../sidecar/redis/client.ts';
import { parseRedisUrl } from '../../../sidecar/redis/url.ts';
import { generateCaAndCert } from '../../../webhook/tls/generate.ts';
import { freePort } from '../../helpers/ports.ts';
import { startRedis, type RedisServer } from '../../helpers/redis.ts';
import { until } from '../../helpers/wait.ts';

const servers: RedisServer[] = [];
const clients: RedisClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop()));
});

async function server(opts: Parameters<typeof startRedis>[0] = {}): Promise<RedisServer> {
  const s = await startRedis(opts);
  servers.push(s);
  return s;
}

function client(url: string, o: Partial<RedisClientOptions> = {}): RedisClient {
  const c = createRedisClient({ target: parseRedisUrl(url)!, commandTimeoutMs: 100, probeTimeoutMs: 1000, ...o });
  clients.push(c);
  return c;
}

const codeOf = (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: { code?: string }) => e.code ?? 'no code');

test('a command that timed out never hands its late reply to the next caller', async () => {
  const redis = await server();
  const c = client(redis.url);
  await until(() => c.ready, 'the client to connect');
  assert.equal(await c.call(['ECHO', 'first']), 'first');
  const connections = async () => Number(/total_connections_received:(\d+)/.exec(await redis.cli('INFO', 'stats'))![1]);
  const before = await connections();

  redis.pause();
  const late = await Promise.all(['late-1', 'late-2', 'late-3'].map((m) => codeOf(c.call(['ECHO', m]))));
  assert.deepEqual(late, [REDIS_ERR.TIMEOUT, REDIS_ERR.TIMEOUT, REDIS_ERR.TIMEOUT]);
  // Known down now: refused at once, nothing sent behind the stuck command.
  assert.equal(c.ready, false);
  assert.equal(await codeOf(c.call(['ECHO', 'skipped'])), REDIS_ERR.UNAVAILABLE);

  redis.resume();
  await until(() => c.ready, 'the probe to succeed once Redis answers');
  // The reply to ECHO late arrived after its caller gave up; this caller gets its own.
  assert.equal(await c.call(['ECHO', 'mine']), 'mine');
  assert.equal(await c.call(['ECHO', 'and mine']), 'and mine');
  // The late replies were absorbed in order on the same connection, not by dropping it.
  assert.equal(await connections(), before + 1, 'only redis-cli connected since (INFO itself)');
});

test('Redis absent at start: refused at once while down, connected once it starts', async () => {
  const port = await freePort();
  const states: boolean[] = [];
  const c = client(`redis://127.0.0.1:${port}`, { onState: (up) => states.push(up) });
  await until(() => states.length > 0, 'the first connection attempt to fail');
  assert.deepEqual(states, [false]);
  assert.equal(await codeOf(c.call(['PING'])), REDIS_ERR.UNAVAILABLE);
  const redis = await server({ port });
  await until(() => c.ready, 'the client to connect in the background', 10_000);
  assert.equal(await c.call(['ECHO', 'hello']), 'hello');
  assert.deepEqual(states, [false, true]);
  void redis;
});

test('killed and restarted: reconnects by itself and runs the init commands again', async () => {
  const redis = await server();
  const c = client(redis.url, { init: [['INCR', 'init-runs']] });
  await until(() => c.ready, 'the client to connect');
  assert.equal(await redis.cli('GET', 'init-runs'), '1');
  await redis.kill();
  await until(() => !c.ready, 'the client to see the connection close');
  assert.equal(await codeOf(c.call(['PING'])), REDIS_ERR.UNAVAILABLE);
  await redis.restart();
  await until(() => c.ready, 'the client to reconnect', 10_000);
  // 1, not 2: a fresh server (persistence is off), on which the client ran its init again.
  assert.equal(await redis.cli('GET', 'init-runs'), '1');
  assert.equal(await c.call(['ECHO', 'back']), 'back');
});

test('a command pending when the connection drops is rejected, not left waiting', async () => {
  const redis = await server();
  const c = client(redis.url, { commandTimeoutMs: 5000 });
  await until(() => c.ready, 'the client to connect');
  const blocked = codeOf(c.call(['BLPOP', 'nothing', '0']));
  await until(async () => /^blocked_clients:1\r?$/m.test(await redis.cli('INFO', 'clients')), 'the BLPOP to block in Redis');
  await redis.kill();
  assert.equal(await blocked, REDIS_ERR.CONNECTION);
  await redis.restart();
});

test('AUTH with the password read at each attempt, and an ACL user from the URL', async () => {
  const redis = await server({ args: ['--requirepass', 'default-pw', '--user', 'alice', 'on', '>alice-pw', '~*', '&*', '+@all'], password: 'default-pw' });
  let password = 'wrong';
  const reasons: string[] = [];
  const c = client(redis.url, { password: () => password, onState: (_up, reason) => reasons.push(reason), backoffMaxMs: 100 });
  await until(() => reasons.length > 0, 'the handshake to be refused');
  assert.match(reasons[0]!, /WRONGPASS|ERR/);
  assert.equal(c.ready, false);
  password = 'default-pw'; // a rotated Secret: the next attempt reads it
  await until(() => c.ready, 'the client to connect with the new password');
  assert.equal(await c.call(['ACL', 'WHOAMI']), 'default');

  const a = client(`redis://alice@127.0.0.1:${redis.port}`, { password: () => 'alice-pw' });
  await until(() => a.ready, 'alice to connect');
  assert.equal(await a.call(['ACL', 'WHOAMI']), 'alice');
});

test('the database number in the URL is selected on every connection', async () => {
  const redis = await server();
  const c = client(`${redis.url}/3`);
  await until(() => c.ready, 'the client to connect');
  assert.equal(await c.call(['SET', 'where', 'db3']), 'OK');
  assert.equal(await redis.cli('-n', '3', 'GET', 'where'), 'db3');
  assert.equal(await redis.cli('-n', '0', 'GET', 'where'), '');
});

test('rediss:// verifies the server against the configured CA, and refuses an unknown one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redis-tls-'));
  const now = new Date();
  const good = generateCaAndCert({ dnsNames: ['localhost'], validityDays: 2, now });
  const other = generateCaAndCert({ dnsNames: ['localhost'], validityDays: 2, now });
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const tls = { cert: file('tls.crt', good.cert), key: file('tls.key', good.key), ca: file('ca.crt', good.ca) };
  const redis = await server({ tls });
  const url = `rediss://localhost:${redis.port}`;
  const ok = client(url, { ca: () => good.ca });
  await until(() => ok.ready, 'the TLS client to connect');
  assert.equal(await ok.call(['ECHO', 'over tls']), 'over tls');

  const reasons: string[] = [];
  const bad = client(url, { ca: () => other.ca, onState: (_up, r) => reasons.push(r) });
  await until(() => reasons.length > 0, 'the TLS handshake to fail');
  assert.equal(bad.ready, false);
  assert.match(reasons[0]!, /CERT|certificate|SELF_SIGNED|UNABLE/i);
});

/** The Redis settings as loadConfig reads them: what selects the store, and every bad value named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../sidecar/config.ts';
import { ConfigError } from '../../../sidecar/errors.ts';
import { parseRedisUrl } from '../../../sidecar/redis/url.ts';

const UP = { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:3000' };
const load = (env: Record<string, string>, files: Record<string, string> = {}) =>
  loadConfig({
    env: { ...UP, ...env },
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
  });

function issues(env: Record<string, string>, files: Record<string, string> = {}): string[] {
  try {
    load(env, files);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues.map((i) => `${i.setting}: got ${i.value}; expected ${i.expected}`);
  }
  return assert.fail('expected a ConfigError');
}

test('the store: memory by default, redis when a URL is set, memory again when asked', () => {
  assert.equal(load({}).limitStore, 'memory');
  const r = load({ MCP_AUTH_RATE_LIMIT_REDIS_URL: 'redis://redis.infra:6379' });
  assert.equal(r.limitStore, 'redis');
  assert.equal(r.redisTimeoutMs, 50);
  assert.equal(r.redisFailure, 'local');
  assert.equal(r.redisPrefix, 'mcp-warden:');
  assert.equal(load({ MCP_AUTH_RATE_LIMIT_REDIS_URL: 'redis://redis.infra:6379', MCP_AUTH_RATE_LIMIT_STORE: 'memory' }).limitStore, 'memory');
  // A cluster default's stray Redis settings never break a pod that does not use Redis.
  assert.equal(load({ MCP_AUTH_RATE_LIMIT_STORE: 'memory', MCP_AUTH_RATE_LIMIT_REDIS_PASSWORD_FILE: '/nowhere' }).limitStore, 'memory');
});

test('the config file holds the same settings under rateLimit.redis', () => {
  const yaml = 'rateLimit:\n  redis:\n    url: rediss://r.example:6380/2\n    failure: closed\n    timeoutMs: 20\n    prefix: "svc-a:"\n    caFile: /ca.pem\n';
  const c = load({ MCP_AUTH_CONFIG_FILE: '/c.yaml' }, { '/c.yaml': yaml, '/ca.pem': 'PEM' });
  assert.deepEqual([c.limitStore, c.redisUrl, c.redisFailure, c.redisTimeoutMs, c.redisPrefix, c.redisCaFile], ['redis', 'rediss://r.example:6380/2', 'closed', 20, 'svc-a:', '/ca.pem']);
});

test('bad Redis settings are all reported at once, each with what was expected', () => {
  const got = issues({
    MCP_AUTH_RATE_LIMIT_REDIS_URL: 'redis://:hunter2@redis:6379',
    MCP_AUTH_RATE_LIMIT_REDIS_FAILURE: 'maybe',
    MCP_AUTH_RATE_LIMIT_REDIS_TIMEOUT_MS: '0',
    MCP_AUTH_RATE_LIMIT_REDIS_PREFIX: 'a{tag}:',
  });
  assert.equal(got.length, 4, got.join('\n'));
  // The password it should not hold is not repeated either.
  assert.match(got[0]!, /^MCP_AUTH_RATE_LIMIT_REDIS_URL: got "redis:\/\/:<redacted>@redis:6379"; expected a redis:\/\/ or rediss:\/\/ URL .*no password/);
  assert.ok(!got.join('\n').includes('hunter2'));
  assert.match(got[1]!, /^MCP_AUTH_RATE_LIMIT_REDIS_PREFIX: got "a\{tag\}:"; expected .*no braces/);
  assert.match(got[2]!, /^MCP_AUTH_RATE_LIMIT_REDIS_TIMEOUT_MS: got "0"; expected a whole number from 1 to 5000/);
  assert.match(got[3]!, /^MCP_AUTH_RATE_LIMIT_REDIS_FAILURE: got "maybe"; expected one of "local", "open", "closed"/);
});

test('redis without a URL, unreadable files and a CA without TLS are refused', () => {
  assert.deepEqual(issues({ MCP_AUTH_RATE_LIMIT_STORE: 'redis' }), ['MCP_AUTH_RATE_LIMIT_STORE: got "redis"; expected "memory" unless MCP_AUTH_RATE_LIMIT_REDIS_URL is set']);
  assert.deepEqual(issues({ MCP_AUTH_RATE_LIMIT_REDIS_URL: 'redis://r:6379', MCP_AUTH_RATE_LIMIT_REDIS_PASSWORD_FILE: '/pw', MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE: '/ca' }, { '/ca': 'PEM' }), [
    'MCP_AUTH_RATE_LIMIT_REDIS_PASSWORD_FILE: got "/pw"; expected a readable file (ENOENT)',
    'MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE: got "/ca"; expected unset unless MCP_AUTH_RATE_LIMIT_REDIS_URL is a rediss:// (TLS) URL',
  ]);
});

test('Redis URLs: schemes, user, port, database; never a password, query or fragment', () => {
  assert.deepEqual(parseRedisUrl('redis://r'), { tls: false, host: 'r', port: 6379, username: undefined, db: 0 });
  assert.deepEqual(parseRedisUrl('rediss://alice@[2001:db8::1]:6380/15'), { tls: true, host: '2001:db8::1', port: 6380, username: 'alice', db: 15 });
  for (const bad of ['http://r:6379', 'redis://alice:pw@r', 'redis://r/x', 'redis://r/0?ssl=true', 'redis://r#x', 'redis://', 'r:6379']) assert.equal(parseRedisUrl(bad), undefined, bad);
});

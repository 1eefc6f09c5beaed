/**
 * The Redis rate-limit store's log against a real redis-server: every change of state is a line,
 * however soon after the last one it comes (the client reports only changes, so there is nothing
 * to throttle), while the lines that can repeat on every decision (fallbacks, errors) stay
 * throttled. A throttled state line would leave the log saying "answers" through a whole outage.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSharedLimitStore, type SharedLimitStore } from '../../../sidecar/limit/shared-store.ts';
import { bucketPolicy } from '../../../sidecar/limit/token-bucket.ts';
import { createLoggers } from '../../../sidecar/log.ts';
import { createMetrics } from '../../../sidecar/metrics.ts';
import { captureLogLines } from '../../helpers/log-lines.ts';
import { startRedis, type RedisServer } from '../../helpers/redis.ts';
import { until } from '../../helpers/wait.ts';

let redis: RedisServer;
let shared: SharedLimitStore | undefined;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  shared?.close();
  await redis.stop();
});

test('up, down, up, down within one throttle interval: four lines; eight fallbacks while down: one line', async () => {
  const { lines, destination } = captureLogLines<{ msg: string; level: string; suppressed?: number }>();
  const { log } = createLoggers({ level: 'info', destination });
  shared = createSharedLimitStore(
    {
      limitStore: 'redis',
      redisUrl: redis.url,
      redisPasswordFile: undefined,
      redisCaFile: undefined,
      redisPrefix: 'state-log:',
      redisTimeoutMs: 200,
      redisFailure: 'local',
      rateLimitMaxKeys: 100,
      rateLimitPerMinute: 60,
      rateLimitPerIpPerMinute: undefined,
      sections: { 'rateLimit.tools': new Map() },
    },
    // An hour: every line of one kind after the first falls inside the interval.
    { logger: log, metrics: createMetrics({ defaultMetrics: false }), readFile: () => '', logIntervalMs: 3_600_000 },
  );
  assert.ok(shared);
  const client = shared.client;
  await until(() => client.ready, 'the store to reach Redis');
  await redis.kill();
  await until(() => !client.ready, 'the store to see Redis gone');
  await redis.restart();
  await until(() => client.ready, 'the store to reach Redis again', 10_000);
  await redis.kill();
  await until(() => !client.ready, 'the store to see Redis gone again');

  const states = lines.filter((l) => l.msg.startsWith('Redis rate-limit store')).map((l) => `${l.level} ${l.msg.startsWith('Redis rate-limit store answers') ? 'up' : 'down'}`);
  assert.deepEqual(states, ['info up', 'warn down', 'info up', 'warn down'], 'the last line says what is true: Redis is down');

  const policy = bucketPolicy('identity', 60, 10);
  for (let i = 0; i < 8; i++) await shared.store.take(`k${i}`, policy, performance.now());
  assert.equal(lines.filter((l) => l.msg === 'rate-limit decision made without Redis').length, 1, 'fallback lines are still throttled');
});

/**
 * The shared rate-limit store from the configuration (MCP_AUTH_RATE_LIMIT_STORE=redis): the Redis
 * client, the Redis store, the failure-mode wrapper and, for `local`, the per-sidecar memory store
 * it falls back to, wired to metrics and to rate-limited log lines. The limiter gets `store` and
 * never knows what is behind it.
 *
 * The concurrent stream cap (MCP_AUTH_MAX_STREAMS_PER_IDENTITY) is not here: it counts open
 * connections of this sidecar, which no other replica can close, so it stays per sidecar.
 */
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import { createLogThrottle } from '../log-throttle.ts';
import type { Metrics } from '../metrics.ts';
import { createRedisClient, type RedisClient } from '../redis/client.ts';
import { parseRedisUrl } from '../redis/url.ts';
import { SETTINGS } from '../settings.ts';
import { createFailoverStore } from './failover-store.ts';
import { createMemoryStore } from './memory-store.ts';
import { LOAD_SCRIPT, createRedisStore } from './redis-store.ts';
import type { RateLimitStore } from './store.ts';

export type SharedStoreConfig = Pick<
  Config,
  'limitStore' | 'redisUrl' | 'redisPasswordFile' | 'redisCaFile' | 'redisPrefix' | 'redisTimeoutMs' | 'redisFailure' | 'rateLimitMaxKeys' | 'rateLimitPerMinute' | 'rateLimitPerIpPerMinute'
> & { readonly sections: Pick<Config['sections'], 'rateLimit.tools'> };

export interface SharedStoreDeps {
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'limitStoreUp' | 'limitStoreErrors' | 'limitStoreFallbacks'>;
  /** Reads the password and CA files (at every connection attempt). */
  readonly readFile: (path: string) => string;
  /** Least ms between two log lines of one kind of error or fallback (default 10 s); state changes are always logged. */
  readonly logIntervalMs?: number;
}

export interface SharedLimitStore {
  /** For the limiter: the Redis store inside its failure mode. */
  readonly store: RateLimitStore;
  readonly client: RedisClient;
  close(): void;
}

/** Bound on a connection attempt or a probe: generous next to a command, short next to an outage. */
export function probeTimeoutMs(commandTimeoutMs: number): number {
  return Math.max(1000, 2 * commandTimeoutMs);
}

/** The largest memory store: the most keys MCP_AUTH_RATE_LIMIT_MAX_KEYS allows for one limit. */
const MAX_LOCAL_KEYS = SETTINGS.rateLimitMaxKeys.shape.max;

/** Undefined when the store is memory, or when no bucket limit is configured (nothing to share). */
export function createSharedLimitStore(config: SharedStoreConfig, deps: SharedStoreDeps): SharedLimitStore | undefined {
  const kinds = (config.rateLimitPerIpPerMinute !== undefined ? 1 : 0) + (config.rateLimitPerMinute !== undefined ? 1 : 0) + (config.sections['rateLimit.tools'].size > 0 ? 1 : 0);
  if (config.limitStore !== 'redis' || kinds === 0 || config.redisUrl === undefined) return undefined;
  const target = parseRedisUrl(config.redisUrl);
  if (target === undefined) throw new RangeError(`redisUrl: got ${JSON.stringify(config.redisUrl)}; loadConfig should have refused it`);
  const log = createLogThrottle(deps.logger, { intervalMs: deps.logIntervalMs ?? 10_000 });
  const { metrics, readFile } = deps;
  const mode = config.redisFailure;
  const where = `${target.tls ? 'rediss' : 'redis'}://${target.host}:${target.port}`;
  const passwordFile = config.redisPasswordFile;
  const caFile = config.redisCaFile;

  metrics.limitStoreUp.set(0);
  const client = createRedisClient({
    target,
    // Kubernetes writes a Secret's value as is; a file written by hand usually ends in a newline.
    ...(passwordFile !== undefined ? { password: () => readFile(passwordFile).replace(/\r?\n$/, '') } : {}),
    ...(caFile !== undefined ? { ca: () => readFile(caFile) } : {}),
    commandTimeoutMs: config.redisTimeoutMs,
    probeTimeoutMs: probeTimeoutMs(config.redisTimeoutMs),
    init: [LOAD_SCRIPT],
    // Not throttled: the client reports changes only, so these lines are as rare as the changes, and
    // dropping one (down, up, then a second down within the interval) would leave the log saying
    // "answers" for the whole outage.
    onState: (up, reason) => {
      metrics.limitStoreUp.set(up ? 1 : 0);
      if (up) deps.logger.info({ redis: where, reason }, 'Redis rate-limit store answers; limits are shared by every replica');
      else deps.logger.warn({ redis: where, reason, failureMode: mode }, `Redis rate-limit store unavailable; decisions follow failure mode "${mode}" until a probe succeeds`);
    },
  });
  const redis = createRedisStore({
    client,
    prefix: config.redisPrefix,
    onError: (kind, err) => {
      metrics.limitStoreErrors.inc({ kind });
      log(`error:${kind}`, 'warn', { redis: where, kind, message: err.message }, 'Redis rate-limit decision failed');
    },
  });
  const onFallback = (m: typeof mode, reason: 'down' | 'error'): void => {
    metrics.limitStoreFallbacks.inc({ mode: m, reason });
    log(`fallback:${reason}`, 'warn', { failureMode: m, reason }, 'rate-limit decision made without Redis');
  };
  const store =
    mode === 'local'
      ? createFailoverStore({ shared: redis, mode, onFallback, local: createMemoryStore({ maxKeys: Math.min(MAX_LOCAL_KEYS, config.rateLimitMaxKeys * kinds) }) })
      : createFailoverStore({ shared: redis, mode, onFallback });
  return { store, client, close: () => client.close() };
}

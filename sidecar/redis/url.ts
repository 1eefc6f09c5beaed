/**
 * A Redis server address from a `redis://` or `rediss://` URL (the IANA-registered schemes, as
 * redis-cli and every client read them): `redis[s]://[user@]host[:port][/db]`.
 *
 * A password in the URL is refused: the URL is a plain setting (an annotation, a cluster default,
 * a log line), so the password comes from a file (a mounted Secret) instead.
 */
export interface RedisTarget {
  readonly tls: boolean;
  readonly host: string;
  readonly port: number;
  /** ACL user (Redis 6+); the password alone means the `default` user. */
  readonly username: string | undefined;
  /** Logical database (SELECT); 0 by default. Redis Cluster has only 0. */
  readonly db: number;
}

export const REDIS_URL_EXPECTED = 'a redis:// or rediss:// URL such as redis://redis.infra.svc:6379/0, with no password (it comes from a file), query or fragment';

/** Parse a Redis URL; undefined when it is not one this client can use. */
export function parseRedisUrl(text: string): RedisTarget | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return undefined;
  if (u.password !== '' || u.search !== '' || u.hash !== '' || u.hostname === '') return undefined;
  const path = u.pathname;
  let db = 0;
  if (path !== '' && path !== '/') {
    const m = /^\/(\d{1,5})$/.exec(path);
    if (!m) return undefined;
    db = Number(m[1]);
  }
  // WHATWG URL keeps IPv6 literals in brackets; net.connect wants them bare.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return Object.freeze({
    tls: u.protocol === 'rediss:',
    host,
    port: u.port === '' ? 6379 : Number(u.port),
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    db,
  });
}

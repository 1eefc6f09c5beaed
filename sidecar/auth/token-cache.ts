/**
 * Verified tokens remembered until they expire, so a client's repeated requests skip the
 * signature check. Keyed by SHA-256 of the token: the cache never holds a token, so a heap dump
 * leaks none. Bounded LRU (a Map's insertion order): a flood of distinct tokens evicts the oldest.
 */
import { createHash } from 'node:crypto';

export interface TokenCache<V> {
  /** The value for a token if cached and `now` (seconds) is not past its expiry; else undefined. */
  get(token: string, nowSeconds: number): V | undefined;
  /** Remember a value until `expiresAt` (seconds since epoch). */
  set(token: string, value: V, expiresAt: number): void;
  readonly size: number;
  clear(): void;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/** `maxEntries` 0 turns the cache off (every call misses). */
export function createTokenCache<V>(opts: { maxEntries: number }): TokenCache<V> {
  if (!Number.isSafeInteger(opts.maxEntries) || opts.maxEntries < 0) throw new RangeError(`token cache maxEntries: got ${opts.maxEntries}; expected a whole number >= 0`);
  const max = opts.maxEntries;
  const map = new Map<string, { value: V; expiresAt: number }>();
  return {
    get(token, nowSeconds) {
      if (max === 0) return undefined;
      const key = tokenHash(token);
      const hit = map.get(key);
      if (hit === undefined) return undefined;
      map.delete(key);
      if (nowSeconds > hit.expiresAt) return undefined;
      map.set(key, hit); // most recently used goes last
      return hit.value;
    },
    set(token, value, expiresAt) {
      if (max === 0) return;
      const key = tokenHash(token);
      map.delete(key);
      map.set(key, { value, expiresAt });
      while (map.size > max) map.delete(map.keys().next().value as string);
    },
    get size() {
      return map.size;
    },
    clear() {
      map.clear();
    },
  };
}

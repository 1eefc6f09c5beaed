/**
 * The in-memory RateLimitStore: a fixed-capacity table of at most `maxKeys` buckets in typed
 * arrays, so memory is allocated once and never grows with the number of distinct keys.
 *
 * Per entry: 64-bit keyed hash of the key (2 x Int32), the GCRA `tat` (Float64) and an LRU list
 * (prev/next Int32) = 24 bytes; plus an open-addressing index (linear probing, load <= 1/2) of
 * one Int32 per slot. Total: `storeBytes(maxKeys)` = 24 * maxKeys + 4 * nextPow2(2 * maxKeys):
 * 3.45 MB for the default 100,000 keys, 32.4 MB for the maximum MCP_AUTH_RATE_LIMIT_MAX_KEYS of
 * 1,000,000 (about 97 MB for the three limits, within the chart's default 256 Mi limit).
 *
 * Eviction never hands out a fresh full bucket early:
 * - an entry is evicted only when its bucket is full by now (`tat <= now`), and then forgetting
 *   it is indistinguishable from keeping it;
 * - when the table is full and none of the least recently used entries is full, the new key is
 *   not stored: it takes from one shared overflow bucket per policy, so keys rotated by an
 *   attacker are throttled together and never get a bucket of their own;
 * - a key that does get an entry starts as full as the overflow bucket is (never fuller), so a
 *   key that drained the overflow does not come back with a full bucket once a slot frees.
 */
import { createKeyHasher } from './key-hash.ts';
import type { RateLimitStore } from './store.ts';
import { isFull, takeToken, type BucketPolicy, type TakeResult } from './token-bucket.ts';

/** How many entries from the LRU tail are checked for a full bucket before using the overflow. */
const EVICTION_SCAN = 8;
/** The settings table's maximum for MCP_AUTH_RATE_LIMIT_MAX_KEYS. */
const MAX_KEYS = 1_000_000;

export interface MemoryStoreOptions {
  /** Capacity in keys (MCP_AUTH_RATE_LIMIT_MAX_KEYS). */
  readonly maxKeys: number;
  /** Hash secret, for reproducible tests; random by default. */
  readonly seed?: readonly [number, number];
}

export interface MemoryStore extends RateLimitStore {
  take(key: string, policy: BucketPolicy, now: number): TakeResult;
  /** Keys currently tracked (<= maxKeys). */
  readonly size: number;
  readonly maxKeys: number;
  /** Bytes held by the table; fixed at creation. */
  readonly bytes: number;
  /** Takes answered by an overflow bucket because the table was full of non-full buckets. */
  readonly overflowTakes: number;
}

function slotsFor(maxKeys: number): number {
  let n = 2;
  while (n < 2 * maxKeys) n *= 2;
  return n;
}

/** The memory bound of a store of `maxKeys` keys, in bytes. */
export function storeBytes(maxKeys: number): number {
  return 24 * maxKeys + 4 * slotsFor(maxKeys);
}

export function createMemoryStore(opts: MemoryStoreOptions): MemoryStore {
  const cap = opts.maxKeys;
  if (!Number.isSafeInteger(cap) || cap < 1 || cap > MAX_KEYS) {
    throw new RangeError(`maxKeys: got ${String(cap)}; expected a whole number from 1 to ${MAX_KEYS}`);
  }
  const hash = createKeyHasher(opts.seed);
  const slots = slotsFor(cap);
  const mask = slots - 1;
  const index = new Int32Array(slots); // entry + 1; 0 = empty slot
  const keyHi = new Int32Array(cap);
  const keyLo = new Int32Array(cap);
  const tat = new Float64Array(cap);
  const prev = new Int32Array(cap);
  const next = new Int32Array(cap);
  const overflow = new Map<string, number>(); // policy name -> tat; bounded by the policies
  const h = new Int32Array(2);
  let size = 0;
  let head = -1; // most recently used
  let tail = -1; // least recently used
  let overflowTakes = 0;

  const home = (e: number): number => keyLo[e]! & mask;

  function find(hi: number, lo: number): number {
    for (let s = lo & mask; ; s = (s + 1) & mask) {
      const v = index[s]!;
      if (v === 0) return -1;
      if (keyLo[v - 1] === lo && keyHi[v - 1] === hi) return v - 1;
    }
  }

  function insertIndex(e: number): void {
    let s = home(e);
    while (index[s] !== 0) s = (s + 1) & mask;
    index[s] = e + 1;
  }

  /** Remove `e` from the index, shifting later probes back (linear-probing deletion, no tombstones). */
  function removeIndex(e: number): void {
    let i = home(e);
    while (index[i] !== e + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; index[j] !== 0; j = (j + 1) & mask) {
      const k = home(index[j]! - 1);
      // The entry at j may move to i only if its home is not cyclically within (i, j].
      const stays = i <= j ? i < k && k <= j : i < k || k <= j;
      if (stays) continue;
      index[i] = index[j]!;
      i = j;
    }
    index[i] = 0;
  }

  function unlink(e: number): void {
    const p = prev[e]!;
    const n = next[e]!;
    if (p >= 0) next[p] = n;
    else head = n;
    if (n >= 0) prev[n] = p;
    else tail = p;
  }

  function pushFront(e: number): void {
    prev[e] = -1;
    next[e] = head;
    if (head >= 0) prev[head] = e;
    head = e;
    if (tail < 0) tail = e;
  }

  /** An entry to reuse: a free one, or a full bucket near the LRU tail; -1 when there is none. */
  function claim(now: number): number {
    if (size < cap) return size++;
    let e = tail;
    for (let i = 0; i < EVICTION_SCAN && e >= 0; i++, e = prev[e]!) {
      if (isFull(tat[e]!, now)) {
        removeIndex(e);
        unlink(e);
        return e;
      }
    }
    return -1;
  }

  function take(key: string, policy: BucketPolicy, now: number): TakeResult {
    hash(key, h);
    const hi = h[0]!;
    const lo = h[1]!;
    let e = find(hi, lo);
    if (e < 0) {
      const spill = overflow.get(policy.name) ?? now;
      e = claim(now);
      if (e < 0) {
        overflowTakes++;
        const step = takeToken(spill, policy, now);
        overflow.set(policy.name, step.tat);
        return step;
      }
      keyHi[e] = hi;
      keyLo[e] = lo;
      // Never fuller than the overflow bucket: see the module comment.
      tat[e] = spill;
      insertIndex(e);
      pushFront(e);
    } else if (e !== head) {
      unlink(e);
      pushFront(e);
    }
    const step = takeToken(tat[e]!, policy, now);
    tat[e] = step.tat;
    return step;
  }

  return {
    take,
    get size() {
      return size;
    },
    maxKeys: cap,
    bytes: storeBytes(cap),
    get overflowTakes() {
      return overflowTakes;
    },
  };
}

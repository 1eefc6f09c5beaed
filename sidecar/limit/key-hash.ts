/**
 * A keyed 64-bit hash of a rate-limit key, so the in-memory store keeps 8 bytes per key instead
 * of the key itself. Keyed (HalfSipHash-2-4 structure, Aumasson & Bernstein, with a random
 * per-process key) because the per-IP keys are chosen by clients: with an unkeyed hash an attacker
 * could precompute addresses that collide with a victim's and drain the victim's bucket. A 64-bit
 * result makes accidental collisions negligible (about n^2 / 2^65: 3e-8 at a million keys); a
 * collision only makes two keys share one bucket, which is stricter, never looser.
 *
 * Plain 32-bit arithmetic rather than node:crypto, on a per-request path: a HMAC-SHA-256 would
 * allocate a Hash object per request. The round is written out three times on purpose: its state is
 * four locals, and a shared round function would need an array or object per call. Keys are
 * hashed as UTF-16 code units, two per 32-bit word.
 */
import { randomBytes } from 'node:crypto';

/** Writes the 64-bit hash of `key` into out[0] (high) and out[1] (low). */
export type KeyHasher = (key: string, out: Int32Array) => void;

const rotl = (x: number, b: number): number => (x << b) | (x >>> (32 - b));

/** A hasher with a random secret (or `seed`, two 32-bit words, for reproducible tests). */
export function createKeyHasher(seed?: readonly [number, number]): KeyHasher {
  const s = seed ?? (() => {
    const b = randomBytes(8);
    return [b.readInt32LE(0), b.readInt32LE(4)] as const;
  })();
  const k0 = s[0] | 0;
  const k1 = s[1] | 0;
  return (key, out) => {
    let v0 = k0;
    let v1 = k1 ^ 0xee;
    let v2 = 0x6c796765 ^ k0;
    let v3 = 0x74656462 ^ k1;
    const n = key.length;
    const whole = n & ~1;
    for (let i = 0; i < whole; i += 2) {
      const m = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16);
      v3 ^= m;
      for (let r = 0; r < 2; r++) {
        v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
        v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
        v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
        v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
      }
      v0 ^= m;
    }
    // Last word: the leftover code unit (if any) and the length, so "a" and "a\0" differ.
    const b = ((n & 1 ? key.charCodeAt(n - 1) : 0) | ((n & 0xffff) << 16)) ^ (n >>> 16);
    v3 ^= b;
    for (let r = 0; r < 2; r++) {
      v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
    }
    v0 ^= b;
    v2 ^= 0xee;
    for (let r = 0; r < 4; r++) {
      v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
    }
    out[0] = v1 ^ v3;
    v1 ^= 0xdd;
    for (let r = 0; r < 4; r++) {
      v0 = (v0 + v1) | 0; v1 = rotl(v1, 5) ^ v0; v0 = rotl(v0, 16);
      v2 = (v2 + v3) | 0; v3 = rotl(v3, 8) ^ v2;
      v0 = (v0 + v3) | 0; v3 = rotl(v3, 7) ^ v0;
      v2 = (v2 + v1) | 0; v1 = rotl(v1, 13) ^ v2; v2 = rotl(v2, 16);
    }
    out[1] = v1 ^ v3;
  };
}

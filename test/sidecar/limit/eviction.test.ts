import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createMemoryStore } from '../../../sidecar/limit/memory-store.ts';
import { bucketPolicy, takeToken, type BucketPolicy } from '../../../sidecar/limit/token-bucket.ts';

// Two policies in one store, as in the per-tool store: keys k0..k11, even keys on the fast one.
const FAST = bucketPolicy('tool:fast', 60, 3); // a token a second, burst 3
const SLOW = bucketPolicy('tool:slow', 6, 2); // a token every 10 s, burst 2
const policyOf = (k: number): BucketPolicy => (k % 2 === 0 ? FAST : SLOW);
const step = fc.record({ key: fc.integer({ min: 0, max: 11 }), dt: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 30_000 })) });

test('property: under eviction pressure no key ever gets more than a dedicated, never-evicted bucket', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(step, { minLength: 1, maxLength: 300 }), (maxKeys, steps) => {
      const store = createMemoryStore({ maxKeys, seed: [1, 2] });
      // The ideal: one bucket per key forever, charged exactly for what the store allowed.
      const ideal = new Map<number, number>();
      let now = 0;
      for (const { key, dt } of steps) {
        now += dt;
        const p = policyOf(key);
        const got = store.take(`k${key}`, p, now);
        if (!got.allowed) continue;
        const want = takeToken(ideal.get(key) ?? now, p, now);
        assert.ok(want.allowed, `key k${key} at ${now} ms was allowed but a never-evicted bucket would be empty`);
        assert.ok(got.remaining <= want.remaining, `k${key}: ${got.remaining} tokens left, a never-evicted bucket has ${want.remaining}`);
        ideal.set(key, want.tat);
      }
      assert.ok(store.size <= maxKeys);
    }),
    { numRuns: 300 },
  );
});

/** The store's documented behaviour in plain Maps (LRU = Map order), to check the typed-array index. */
function model(maxKeys: number) {
  const entries = new Map<string, number>();
  const overflow = new Map<string, number>();
  return (key: string, p: BucketPolicy, now: number) => {
    let tat = entries.get(key);
    if (tat === undefined) {
      const spill = overflow.get(p.name) ?? now;
      if (entries.size >= maxKeys) {
        const victim = [...entries].slice(0, 8).find(([, t]) => t <= now);
        if (victim === undefined) {
          const s = takeToken(spill, p, now);
          overflow.set(p.name, s.tat);
          return s;
        }
        entries.delete(victim[0]);
      }
      tat = spill;
    }
    entries.delete(key);
    const s = takeToken(tat, p, now);
    entries.set(key, s.tat);
    return s;
  };
}

test('property: the typed-array table (hashing, probing, deletion, LRU) behaves exactly as its model', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.record({ key: fc.integer({ min: 0, max: 40 }), dt: fc.integer({ min: 0, max: 3000 }) }), { maxLength: 400 }), (maxKeys, steps) => {
      const store = createMemoryStore({ maxKeys });
      const m = model(maxKeys);
      let now = 0;
      for (const { key, dt } of steps) {
        now += dt;
        const p = policyOf(key);
        const got = store.take(`key-${key}`, p, now);
        const want = m(`key-${key}`, p, now);
        assert.deepEqual(got, want, `key-${key} at ${now}`);
      }
    }),
    { numRuns: 300 },
  );
});

test('a full bucket is evicted for a new key; a drained one never is', () => {
  const store = createMemoryStore({ maxKeys: 2 });
  const t0 = 1_000_000;
  for (let i = 0; i < 3; i++) store.take('drained', FAST, t0);
  store.take('light', FAST, t0);
  // At t0 + 1 s 'light' is full again (one token taken, one refilled): it may go, 'drained' may not.
  const r = store.take('new', FAST, t0 + 1000);
  assert.equal(r.allowed, true);
  assert.equal(store.overflowTakes, 0);
  assert.equal(store.take('drained', FAST, t0 + 1000).remaining, 0, "'drained' kept its state: one token refilled, taken");
  assert.equal(store.take('drained', FAST, t0 + 1000).allowed, false);
});

test('keys rotated while the table is full of busy buckets share one overflow bucket', () => {
  const store = createMemoryStore({ maxKeys: 4 });
  const t = 5_000;
  for (let i = 0; i < 4; i++) store.take(`busy-${i}`, FAST, t);
  let allowed = 0;
  for (let i = 0; i < 1000; i++) if (store.take(`rotating-${i}`, FAST, t).allowed) allowed++;
  assert.equal(allowed, FAST.burst, 'a thousand fresh keys get one burst between them');
  assert.equal(store.overflowTakes, 1000);
  // Once slots free (the busy buckets refilled), a new key starts no fuller than the overflow
  // bucket: one token (refilled in the last second), not a fresh burst of 3.
  assert.equal(store.take('late', FAST, t + 1000).allowed, true);
  assert.equal(store.take('late', FAST, t + 1000).allowed, false, 'one token, not a fresh burst');
  assert.equal(store.take('rotating-0', FAST, t + 1000).remaining, 0, 'a rotated key that drained the overflow comes back as empty as it');
});

test('maxKeys is validated', () => {
  assert.throws(() => createMemoryStore({ maxKeys: 0 }), /maxKeys: got 0; expected a whole number from 1 to 1000000/);
});

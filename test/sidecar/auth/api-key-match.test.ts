import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKeyStore, keyId } from '../../../sidecar/auth/api-key.ts';

test('match: exactly the configured keys, whatever the lengths (prefixes, suffixes, values cut to the width, multi-byte text)', () => {
  const keys = ['k-primary-4d8e1f2a9b3c', 'short-key-1', 'ключ-секрет-ß'];
  const store = createKeyStore({ keys });
  const near = fc.oneof(
    fc.constantFrom(...keys),
    fc.tuple(fc.constantFrom(...keys), fc.string({ maxLength: 8 })).map(([k, s]) => k + s),
    fc.tuple(fc.constantFrom(...keys), fc.nat(30)).map(([k, n]) => k.slice(0, n)),
    fc.tuple(fc.constantFrom(...keys), fc.nat(30), fc.string({ minLength: 1, maxLength: 1 })).map(([k, i, c]) => k.slice(0, i) + c + k.slice(i + 1)),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
  );
  fc.assert(
    fc.property(near, (v) => {
      assert.equal(store.match(v), keys.includes(v) ? keyId(v) : undefined);
    }),
    { numRuns: 5000 },
  );
  for (const k of keys) assert.equal(store.match(k), keyId(k));
  store.close();
});

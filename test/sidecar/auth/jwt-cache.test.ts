import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTokenCache, tokenHash } from '../../../sidecar/auth/token-cache.ts';

test('token cache: bounded LRU, expiry honoured, keyed by a hash', () => {
  const c = createTokenCache<string>({ maxEntries: 2 });
  c.set('t1', 'a', 100);
  c.set('t2', 'b', 100);
  assert.equal(c.get('t1', 50), 'a'); // t1 is now the most recent
  c.set('t3', 'c', 100); // evicts t2
  assert.equal(c.get('t2', 50), undefined);
  assert.equal(c.get('t1', 50), 'a');
  assert.equal(c.get('t3', 50), 'c');
  assert.equal(c.size, 2);
  assert.equal(c.get('t1', 101), undefined, 'expired entries are not served');
  assert.equal(c.size, 1, 'and are dropped');
  assert.equal(tokenHash('t1').length, 43);
  assert.notEqual(tokenHash('t1'), 't1');
});

test('token cache: maxEntries 0 is off; 20 000 distinct tokens keep it at its bound', () => {
  const off = createTokenCache<string>({ maxEntries: 0 });
  off.set('t', 'v', 1e12);
  assert.equal(off.get('t', 0), undefined);
  const c = createTokenCache<number>({ maxEntries: 1000 });
  for (let i = 0; i < 20_000; i++) c.set(`tok-${i}`, i, 1e12);
  assert.equal(c.size, 1000);
  assert.equal(c.get('tok-19999', 0), 19999);
  assert.throws(() => createTokenCache({ maxEntries: -1 }), /maxEntries: got -1/);
});

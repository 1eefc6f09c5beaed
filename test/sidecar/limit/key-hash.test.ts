import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createKeyHasher } from '../../../sidecar/limit/key-hash.ts';
import { ipKey, parseIp } from '../../../sidecar/limit/ip.ts';

test('key hash: deterministic per secret, different across secrets, no collisions on 200k near keys', () => {
  const a = createKeyHasher([7, 9]);
  const b = createKeyHasher([7, 10]);
  const out = new Int32Array(2);
  const h = (f: typeof a, k: string) => (f(k, out), `${out[0]}:${out[1]}`);
  assert.equal(h(a, 'ip:1.2.3.4'), h(a, 'ip:1.2.3.4'));
  assert.notEqual(h(a, 'ip:1.2.3.4'), h(b, 'ip:1.2.3.4'));
  assert.notEqual(h(a, 'a'), h(a, 'a\0'));
  assert.notEqual(h(a, ''), h(a, '\0'));
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) seen.add(h(a, `ip:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
  assert.equal(seen.size, 200_000);
  // The low word indexes the table: its low bits must spread sequential keys evenly.
  const buckets = new Array<number>(64).fill(0);
  for (let i = 0; i < 64_000; i++) buckets[(a(`id:key:${i}`, out), out[1]! & 63)]!++;
  assert.ok(Math.min(...buckets) > 800 && Math.max(...buckets) < 1200, buckets.join(','));
});

test('IP normalisation and per-IP keys', () => {
  const rows: [string, string | undefined][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:c000:0201', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['::1', '::1'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['1.2.3.256', undefined],
    ['1.2.3.4.5', undefined],
    ['1..3.4', undefined],
    ['1.2.3.', undefined],
    [' 1.2.3.4', undefined],
    ['1.2.3.1000', undefined],
    ['1.2.3', undefined],
    ['01.2.3.4', undefined],
    ['unknown', undefined],
    ['', undefined],
  ];
  for (const [s, want] of rows) assert.equal(parseIp(s)?.text, want, s);
  assert.equal(ipKey('192.0.2.1'), '192.0.2.1');
  assert.equal(ipKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
  assert.equal(ipKey('2001:db8:1:2:3:4:5:6', 56), '2001:db8:1::/56');
  assert.equal(ipKey('2001:db8:1:2:3:4:5:6', 128), '2001:db8:1:2:3:4:5:6/128');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { storeBytes } from '../../../sidecar/limit/memory-store.ts';

const MiB = 1024 * 1024;

test('the documented table size: 24 bytes a key plus a 4-byte index slot at load <= 1/2', () => {
  assert.equal(storeBytes(100_000), 24 * 100_000 + 4 * 262_144); // 3.45 MB at the default
  assert.equal(storeBytes(1), 24 + 8);
  assert.equal(storeBytes(1_000_000), 24 * 1_000_000 + 4 * 2 ** 21); // 32.4 MB at the maximum
});

test('a million distinct IPs and identities keep memory bounded (default maxKeys)', async () => {
  const probe = fileURLToPath(new URL('./memory-probe.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', probe], { timeout: 110_000 });
  const r = JSON.parse(stdout) as { deltaBytes: number; tableBytes: number; ipSize: number; idSize: number; overflowTakes: number; refused: number };
  // Stated bound: the two fixed tables (2 x 3.45 MB) plus 4 MiB for everything else.
  const bound = r.tableBytes + 4 * MiB;
  assert.ok(r.deltaBytes < bound, `heap + ArrayBuffers grew ${(r.deltaBytes / MiB).toFixed(1)} MiB; bound ${(bound / MiB).toFixed(1)} MiB`);
  assert.equal(r.ipSize, 100_000);
  assert.equal(r.idSize, 100_000);
  // The flood at one instant found no full bucket to evict: the excess went to the overflow buckets.
  assert.ok(r.overflowTakes >= 800_000, `overflow takes ${r.overflowTakes}`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { README, withTable } from '../../scripts/settings-table.ts';

test('the README settings table matches sidecar/settings.ts (node scripts/settings-table.ts --write)', () => {
  const readme = readFileSync(README, 'utf8');
  assert.equal(readme, withTable(readme));
});

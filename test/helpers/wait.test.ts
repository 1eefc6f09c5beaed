/**
 * The one polling helper: its bound is wall-clock time, however long each check takes, and a
 * diagnostic callback's text ends the failure message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { until } from './wait.ts';

test('until: a slow condition is checked until the time is up, not for a fixed number of turns', async () => {
  let calls = 0;
  const slow = async () => {
    calls++;
    await sleep(100);
    return false;
  };
  await assert.rejects(until(slow, 'never', 250), /timed out after 250 ms waiting for never/);
  // Each check takes at least 120 ms (its own 100 plus a 20 ms pause), so 250 ms hold at most 4;
  // counting 20 ms turns instead would check 14 times (1.7 s).
  assert.ok(calls <= 4, `${calls} checks`);
});

test('until: resolves once the condition holds; the diagnostic callback is called only on failure', async () => {
  let n = 0;
  let diagnosed = 0;
  await until(() => ++n >= 3, 'three checks', 5000, () => String(++diagnosed));
  assert.equal(diagnosed, 0);
  await assert.rejects(until(() => false, 'nothing', 50, () => 'the state:\nlog line'), (err: Error) => err.message.endsWith('waiting for nothing\nthe state:\nlog line'));
});

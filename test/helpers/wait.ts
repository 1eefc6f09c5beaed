/** Poll a condition until it holds; fail with what was awaited after `maxMs`. Bounded, never a timing assertion. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export async function until(cond: () => boolean | Promise<boolean>, what: string, maxMs = 5000): Promise<void> {
  for (let waited = 0; !(await cond()); waited += 20) {
    if (waited > maxMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

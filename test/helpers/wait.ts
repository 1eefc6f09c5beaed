/**
 * Poll a condition until it holds; fail with what was awaited once `maxMs` of wall-clock time
 * have passed, however long each check takes. Bounded, never a timing assertion. `diagnose`, called
 * only on failure, adds the state worth seeing (a process's output, say) to the message.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

export async function until(cond: () => boolean | Promise<boolean>, what: string, maxMs = 5000, diagnose?: () => string): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (!(await cond())) {
    if (performance.now() >= deadline) assert.fail(`timed out after ${maxMs} ms waiting for ${what}${diagnose ? `\n${diagnose()}` : ''}`);
    await sleep(20);
  }
}

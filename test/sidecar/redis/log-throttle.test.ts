/** Rate-limited log lines: the first of a kind at once, then one per interval with the count left out. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLoggers } from '../../../sidecar/log.ts';
import { createLogThrottle } from '../../../sidecar/log-throttle.ts';
import { captureLogLines } from '../../helpers/log-lines.ts';

test('one line per kind per interval, carrying how many were suppressed', () => {
  const { lines, destination } = captureLogLines();
  const { log } = createLoggers({ level: 'info', destination });
  let t = 0;
  const say = createLogThrottle(log, { intervalMs: 10_000, now: () => t });
  for (let i = 0; i < 100; i++) say('fallback', 'warn', { i }, 'fell back');
  say('error:timeout', 'warn', {}, 'timed out');
  t = 10_000;
  say('fallback', 'warn', { i: 100 }, 'fell back');
  assert.deepEqual(
    lines.map((l) => [l.msg, l.level, l.i, l.suppressed]),
    [
      ['fell back', 'warn', 0, undefined],
      ['timed out', 'warn', undefined, undefined],
      ['fell back', 'warn', 100, 99],
    ],
  );
});

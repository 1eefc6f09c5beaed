/** The one log-line collector: every line parsed in order, a line split across writes parsed once whole. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureLogLines } from './log-lines.ts';

test('lines are parsed in order, a split line once complete; raw keeps the text', () => {
  const c = captureLogLines();
  c.destination.write('{"a":1}\n{"b":');
  assert.deepEqual(c.lines, [{ a: 1 }]);
  c.destination.write('2}\n\n');
  assert.deepEqual(c.lines, [{ a: 1 }, { b: 2 }]);
  assert.equal(c.raw(), '{"a":1}\n{"b":2}\n\n');
});

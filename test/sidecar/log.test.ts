import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createLoggers, isoTime } from '../../sidecar/log.ts';

/** Loggers over a destination that keeps every line. */
function capture(level = 'info') {
  const lines: string[] = [];
  const loggers = createLoggers({ level, destination: { write: (s: string) => void lines.push(s) } });
  return { ...loggers, lines };
}

/** A line with its time field set to a fixed value (the two writers run a moment apart). */
const untimed = (line: string): string => line.replace(/"time":"[^"]*"/, '"time":"T"');

const fieldValue = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(undefined), fc.constant(null));
const fields = fc.dictionary(fc.oneof(fc.constantFrom('method', 'path', 'status', 'ms', 'id', 'ip', 'code', 'aborted', 'exempt', 'key', 'token', 'msg', 'level'), fc.string()), fieldValue);

test('the request line is byte for byte what pino writes for the same fields, redaction included', () => {
  fc.assert(
    fc.property(fields, (f) => {
      const fast = capture();
      const slow = capture();
      fast.request(f);
      slow.log.info(f, 'request');
      assert.equal(fast.lines.length, 1);
      assert.equal(untimed(fast.lines[0]!), untimed(slow.lines[0]!));
    }),
    { numRuns: 2000 },
  );
  const c = capture();
  c.request({ method: 'GET', key: 'a-secret-key', token: 'a-token' });
  assert.doesNotMatch(c.lines[0]!, /a-secret-key|a-token/);
  assert.match(c.lines[0]!, /"key":"\[redacted\]","token":"\[redacted\]","msg":"request"/);
});

test('a request line with an object field goes through pino, whose nested redaction applies', () => {
  const c = capture();
  c.request({ method: 'GET', headers: { authorization: 'Bearer secret-one', 'x-api-key': 'secret-two' }, extra: { token: 'secret-three' } });
  const line = c.lines[0]!;
  for (const s of ['secret-one', 'secret-two', 'secret-three']) assert.ok(!line.includes(s), s);
  assert.deepEqual(JSON.parse(line).headers, { authorization: '[redacted]', 'x-api-key': '[redacted]' });
});

test('the request line follows the level: nothing below info', () => {
  const c = capture('warn');
  c.request({ method: 'GET' });
  assert.deepEqual(c.lines, []);
});

test('isoTime writes what toISOString writes, for any instant', () => {
  fc.assert(
    fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
      assert.equal(isoTime(ms), `,"time":"${new Date(ms).toISOString()}"`);
    }),
    { numRuns: 5000 },
  );
  // The same second twice and the next one: the cached date must not leak across seconds.
  for (const ms of [1_733_000_000_999, 1_733_000_000_001, 1_733_000_001_000, 999, 0, -1]) assert.equal(isoTime(ms), `,"time":"${new Date(ms).toISOString()}"`);
});

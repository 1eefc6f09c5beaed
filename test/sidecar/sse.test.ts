import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SseSplitter, eventData, parseEventLines, replaceEventData } from '../../sidecar/stream/sse.ts';

function splitAll(text: string, cuts: number[]): { events: string[]; rest: string } {
  const s = new SseSplitter();
  const events: string[] = [];
  let prev = 0;
  for (const c of [...cuts.filter((x) => x > 0 && x < text.length)].sort((a, b) => a - b).concat(text.length)) {
    events.push(...s.push(text.slice(prev, c)));
    prev = c;
  }
  return { events, rest: s.rest() };
}

test('events end at a blank line with any line ending; framing kept byte for byte', () => {
  const text = 'event: message\r\nid: 1\r\ndata: {"a":1}\r\n\r\n: comment\ndata: x\n\nretry: 10\rdata: y\r\rdata: tail';
  const { events, rest } = splitAll(text, []);
  assert.deepEqual(events, ['event: message\r\nid: 1\r\ndata: {"a":1}\r\n\r\n', ': comment\ndata: x\n\n', 'retry: 10\rdata: y\r\r']);
  assert.equal(rest, 'data: tail');
  assert.equal(eventData(parseEventLines(events[0]!)), '{"a":1}');
});

test('property: any chunking yields the same events, and nothing is lost', () => {
  const line = fc.oneof(fc.constantFrom('data: x', 'data:y', 'event: message', 'id: 7', ': c', 'retry: 5', ''), fc.string({ maxLength: 8 }).map((s) => `data: ${s.replace(/[\r\n]/g, '')}`));
  const eol = fc.constantFrom('\n', '\r\n', '\r');
  const stream = fc.array(fc.tuple(line, eol), { maxLength: 30 }).map((ls) => ls.map(([l, e]) => l + e).join(''));
  fc.assert(
    fc.property(stream, fc.array(fc.nat(400), { maxLength: 20 }), (text, cuts) => {
      const whole = splitAll(text, []);
      const chunked = splitAll(text, cuts);
      assert.deepEqual(chunked, whole);
      assert.equal(whole.events.join('') + whole.rest, text);
    }),
    { numRuns: 500 },
  );
});

test('replaceEventData keeps other fields and splits multi-line data', () => {
  const lines = parseEventLines('event: message\r\ndata: a\r\ndata: b\r\nid: 3\r\n\r\n');
  assert.equal(eventData(lines), 'a\nb');
  assert.equal(replaceEventData(lines, 'x\ny'), 'event: message\r\ndata: x\r\ndata: y\r\nid: 3\r\n\r\n');
});

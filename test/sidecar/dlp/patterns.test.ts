import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDlpPatterns } from '../../../sidecar/dlp/patterns.ts';
import { createRedactor } from '../../../sidecar/dlp/redactor.ts';
import { analyzeRegex } from '../../../sidecar/dlp/regex-safety.ts';
import { StringSink } from '../../../sidecar/dlp/scanner.ts';

const W = 'dlp.patterns';

test('custom patterns: bad and unsafe regexes are named errors; safe ones pass', () => {
  const table: Array<[string, string, RegExp | undefined]> = [
    ['ticket', 'TICKET-[0-9]{6}', undefined],
    ['dotted', '(?:[a-z]{1,10}\\.){1,4}internal', undefined],
    ['sep', '(?:a{1,5}b){1,10}', undefined],
    ['unicode', 'Geheimnis-[0-9]{4}', undefined],
    ['broken', 'a(b', /^a valid regular expression \(/],
    ['nested', '(a+)+$', /cannot backtrack catastrophically; found a repetition nested in another repetition/],
    ['nested-bounded', '(?:x{1,20}){1,20}y', /cannot backtrack catastrophically/],
    ['word-space', '(\\w+\\s?)+', /cannot backtrack catastrophically/],
    ['alt', '(a|a)*b', /cannot backtrack catastrophically; found an alternation under a repetition/],
    ['alt-overlap', '(?:\\d|[0-5]x){1,30}', /cannot backtrack catastrophically; found an alternation/],
    ['unbounded', 'SECRET-\\d+', /longest match is at most 4096 characters/],
    ['star', 'key=.*', /longest match is at most 4096/],
    ['backref', '(a)\\1', /without backreferences/],
    ['empty-match', 'x{0,3}', /cannot match the empty string/],
    // Polynomial, not nested: the static check lets it through, the adversarial run does not.
    ['poly', 'a{0,2000}a{0,2000}b', /runs in linear time \(one match attempt took [\d.]+ ms on adversarial input/],
  ];
  const raw = table.map(([name, regex]) => ({ name, regex, replace: '[X]' }));
  const { value, issues } = parseDlpPatterns(raw, W);
  for (const [name, regex, expected] of table) {
    const issue = issues.find((i) => i.setting === `${W} "${name}".regex`);
    if (!expected) {
      assert.equal(issue, undefined, `${name} should pass: ${issue?.expected}`);
      assert.ok(value.some((p) => p.name === name));
    } else {
      assert.ok(issue, `${name} should fail`);
      assert.equal(issue.value, JSON.stringify(regex));
      assert.match(issue.expected, expected, name);
    }
  }
});

test('parseDlpPatterns refuses an unsafe pattern by name; createRedactor applies safe ones after the defaults', () => {
  const evil = parseDlpPatterns([{ name: 'evil', regex: '(x+)+y', replace: '[E]' }], 'dlp.patterns');
  assert.equal(evil.issues[0]?.setting, 'dlp.patterns "evil".regex');
  assert.deepEqual(evil.value, []);
  const r = createRedactor({ patterns: [{ name: 'ticket', regex: 'TICKET-[0-9]{6}', replace: '[TICKET]' }, { name: 'de', regex: 'Schlüssel-[0-9]{4}', replace: '«geheim»' }] });
  const out = r.redact('{"t":"see TICKET-123456 and Schlüssel-9876 and bob@example.com"}');
  assert.equal(out.text, '{"t":"see [TICKET] and «geheim» and [REDACTED:email]"}');
  assert.deepEqual(out.matches, ['ticket', 'de', 'email']);
  assert.ok(r.holdBack >= 2 * 12297);
});

test('custom rules (full scan) stay chunk-safe and JSON-safe: a number outside strings becomes a quoted string', () => {
  const r = createRedactor({ patterns: [{ name: 'card', regex: '\\b[0-9]{16}\\b', replace: '[CARD]' }] });
  const body = '{"a":4111111111111111,"b":"card 4111111111111111 \\"x\\""}';
  const out = r.redact(body);
  assert.deepEqual(JSON.parse(out.text), { a: '[CARD]', b: 'card [CARD] "x"' });
});

test('analyzer: longest match, lookbehind, literal prefix (a custom rule\'s anchor)', () => {
  assert.equal(analyzeRegex('TICKET-[0-9]{6}').literalPrefix, 'TICKET-');
  assert.equal(analyzeRegex('\\bkey=\\w{4}').literalPrefix, 'key=');
  assert.equal(analyzeRegex('ab+c').literalPrefix, 'a');
  assert.equal(analyzeRegex('abc|xyz').literalPrefix, '');
  assert.equal(analyzeRegex('a{2,5}(?:bc|d)?').maxLength, 7);
  assert.equal(analyzeRegex('(?<=key: )\\w{8}').lookbehind, 5);
  assert.equal(analyzeRegex('x+').maxLength, Infinity);
});

test('property: custom rules (anchored and full-scan) are chunk-safe too', () => {
  const r = createRedactor({
    patterns: [
      { name: 'ticket', regex: 'TICKET-[0-9]{6}', replace: '[TICKET]' },
      { name: 'card', regex: '(?<![0-9])[0-9]{16}(?![0-9])', replace: '[CARD]' },
    ],
  });
  const piece = fc.oneof(fc.constantFrom('TICKET-', '123456', '4111111111111111', ' ', '7', 'x', 'é'), fc.string({ maxLength: 4 }));
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 400 }), fc.array(fc.nat(3000), { maxLength: 30 }), (pieces, cuts) => {
      const latin = Buffer.from(pieces.join(''), 'utf8').toString('latin1');
      const whole = r.redactLatin1(latin, false).text;
      const sink = new StringSink();
      const s = r.stream(false);
      const sorted = [...new Set(cuts.map((c) => c % (latin.length + 1)))].sort((a, b) => a - b);
      let prev = 0;
      for (const c of [...sorted, latin.length]) {
        s.push(latin.slice(prev, c), sink);
        prev = c;
      }
      s.end(sink);
      assert.equal(sink.out, whole);
      assert.ok(!/TICKET-[0-9]{6}/.test(whole));
    }),
    { numRuns: 100 },
  );
});

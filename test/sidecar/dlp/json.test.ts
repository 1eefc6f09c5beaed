import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRedactor } from '../../../sidecar/dlp/redactor.ts';
import { anySecret, chunk } from './secrets.ts';
import { StringSink } from '../../../sidecar/dlp/scanner.ts';

const redactor = createRedactor({ patterns: [] });

/** A fixed pool of secrets, so the property can check that none of them is left. */
const POOL = fc.sample(anySecret, { numRuns: 60, seed: 7 }).map((s) => s.secret);

/** Strings that mix secrets with characters JSON escapes (quotes, backslashes, control chars, \u2028). */
const nasty = fc
  .array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('"', '\\', '\n', '\t', '\u0001', '\u2028', 'é', '😀', '\\n', '/', ' '), fc.constantFrom(...POOL).map((s) => ` ${s} `)), { maxLength: 8 })
  .map((a) => a.join(''));

const doc = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, nasty, fc.integer(), fc.boolean(), fc.constant(null), fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(nasty, tie('value'), { maxKeys: 4 })),
})).value;

function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  return out;
}

test('property: any JSON document with secrets in its strings stays valid JSON, same for every chunking, secrets gone', () => {
  fc.assert(
    fc.property(doc, fc.array(fc.nat(3000), { maxLength: 20 }), (value, cuts) => {
      const text = JSON.stringify({ jsonrpc: '2.0', id: 1, result: value });
      const out = redactor.redact(text, { json: true });
      const parsed = JSON.parse(out.text) as { id: number; result: unknown };
      assert.equal(parsed.id, 1);
      // No secret of the pool is left in any string (key or value) of the result.
      for (const s of strings(parsed.result)) for (const secret of POOL) assert.ok(!s.includes(secret), `${secret} left in ${s}`);
      if (out.matches.length === 0) assert.equal(out.text, text);
      // Chunk-safety of the JSON tracker.
      const latin = Buffer.from(text, 'utf8').toString('latin1');
      const sink = new StringSink();
      const sc = redactor.stream(true);
      for (const c of chunk(Buffer.from(latin, 'latin1'), cuts)) sc.push(c.toString('latin1'), sink);
      sc.end(sink);
      assert.equal(Buffer.from(sink.out, 'latin1').toString('utf8'), out.text);
    }),
    { numRuns: 200 },
  );
});

test('a match never splits a JSON escape, and never runs past the end of its string', () => {
  const key = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
  const cases: Array<[unknown, unknown]> = [
    [{ t: `\n${key}\n` }, { t: '\n[REDACTED:github-pat]\n' }],
    [{ t: `x\\${key}` }, { t: 'x\\[REDACTED:github-pat]' }],
    [{ t: 'mail:\nbob@example.com\t' }, { t: 'mail:\n[REDACTED:email]\t' }],
    // A PEM header whose footer is in another string: the match is clipped at the end of its own string.
    [{ a: '-----BEGIN RSA PRIVATE KEY-----', b: `${'x'.repeat(80)} END RSA PRIVATE KEY-----` }, { a: '[REDACTED:private-key]', b: `${'x'.repeat(80)} END RSA PRIVATE KEY-----` }],
  ];
  for (const [input, expected] of cases) {
    const out = redactor.redact(JSON.stringify(input), { json: true });
    assert.deepEqual(JSON.parse(out.text), expected, JSON.stringify(input));
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRedactor } from '../../../sidecar/dlp/redactor.ts';
import { DEFAULT_RULES } from '../../../sidecar/dlp/rules.ts';
import { createDlpTransform } from '../../../sidecar/dlp/transform.ts';
import { CountingSink, anySecret, chunk, runTransform, seededText } from './secrets.ts';
import { makeContext } from '../../helpers/context.ts';

const redactor = createRedactor({ patterns: [] });
// The same rules without the three long ones: a hold-back of about 1.3 KB, so short generated
// texts really stream (with every rule the hold-back is about 25 KB and short texts wait whole).
const SHORT = DEFAULT_RULES.filter((r) => r.maxLength < 1000);
const small = createRedactor({ patterns: [], rules: SHORT });


const cutsArb = fc.oneof(fc.constant<'bytes'>('bytes'), fc.array(fc.nat(40000), { maxLength: 60 }));

test('property: streamed redaction equals whole-text redaction for every chunking; hold-back bounded; no secret leaves', () => {
  for (const [name, r, rules] of [['short rules', small, SHORT], ['default rules', redactor, DEFAULT_RULES]] as const) {
    // Padding between the seeded parts makes texts longer than the hold-back, so output really streams.
    const pad = fc.nat(name === 'short rules' ? 200 : 1000);
    const secretArb = fc.tuple(fc.array(fc.tuple(seededText, pad), { minLength: 1, maxLength: name === 'short rules' ? 8 : 3 }), cutsArb, fc.boolean());
    fc.assert(
      fc.property(secretArb, ([partsPads, cuts, json]) => {
        const parts = partsPads.map(([p]) => p);
        const text = partsPads.map(([p, n]) => `${p.text} ${'lorem ipsum '.repeat(n)}`).join(' ');
        const secrets = parts.flatMap((p) => p.secrets).filter((s) => rules.some((x) => new RegExp(x.regex, x.flags).test(s)));
        const latin = Buffer.from(text, 'utf8').toString('latin1');
        const whole = r.redactLatin1(latin, json).text;
        const sink = new CountingSink();
        const scanner = r.stream(json);
        let fed = 0;
        for (const c of chunk(Buffer.from(latin, 'latin1'), cuts)) {
          scanner.push(c.toString('latin1'), sink);
          fed += c.length;
          assert.ok(fed - sink.accounted <= r.holdBack, `held ${fed - sink.accounted} > holdBack ${r.holdBack}`);
          assert.ok(whole.startsWith(sink.out), 'what left is final');
        }
        scanner.end(sink);
        assert.equal(sink.out, whole);
        assert.equal(sink.accounted, latin.length);
        const utf8 = Buffer.from(whole, 'latin1').toString('utf8');
        for (const s of secrets) assert.ok(!utf8.includes(s), `secret left: ${s}`);
      }),
      { numRuns: name === 'short rules' ? 100 : 15 },
    );
  }
});

test('property: the real transform (text/plain, application/json) gives the same bytes for 1-byte and random chunks', async () => {
  await fc.assert(
    fc.asyncProperty(seededText, fc.array(fc.nat(4000), { maxLength: 12 }), fc.constantFrom('text/plain', 'application/json'), async ({ text }, cuts, ct) => {
      const body = ct === 'application/json' ? JSON.stringify({ jsonrpc: '2.0', id: 1, result: { text } }) : text;
      const buf = Buffer.from(body, 'utf8');
      const expected = redactor.redact(body, { json: ct === 'application/json' }).text;
      const t = createDlpTransform({ redactor, mode: 'redact' });
      for (const chunks of [chunk(buf, 'bytes'), chunk(buf, cuts)]) {
        const r = await runTransform(t, { 'content-type': ct, 'content-length': String(buf.length), etag: '"x"' }, chunks);
        assert.equal(r.error, undefined);
        assert.equal(Buffer.concat(r.out).toString('utf8'), expected);
        assert.equal(r.headers.etag, undefined);
        if (ct === 'application/json') assert.equal((JSON.parse(expected) as { id: number }).id, 1);
      }
    }),
    { numRuns: 25 },
  );
});

test('matches are reported by rule name only, once per redaction', () => {
  const seen: string[] = [];
  const r = createRedactor({ patterns: [], onMatch: (rule) => seen.push(rule) });
  const out = r.redact('a AKIAIOSFODNN7ABCDEFG b bob@example.com c AKIAIOSFODNN7ABCDEFH', { json: false });
  assert.deepEqual(out.matches, ['aws-access-key-id', 'email', 'aws-access-key-id']);
  assert.deepEqual(seen, out.matches);
  assert.ok(!out.text.includes('AKIA'));
});

test('property: the transform keeps JSON-RPC opaque fields in JSON and SSE answers to MCP requests; streamed and whole forms alike', async () => {
  // The answer to a JSON-RPC POST the message stage read: what marks a response as JSON-RPC.
  const ctx = makeContext({ method: 'POST' });
  ctx.message = { ok: true, message: { era: 'modern', protocolVersion: '2026-07-28', calls: [], doc: {} } };
  await fc.assert(
    fc.asyncProperty(anySecret, anySecret, fc.array(fc.nat(2000), { maxLength: 12 }), fc.constantFrom('application/json', 'text/event-stream'), async (state, leak, cuts, ct) => {
      const msg = { jsonrpc: '2.0', id: 'call-1', result: { resultType: 'input_required', inputRequests: { q: { method: 'elicitation/create', params: { message: `use ${leak.secret}` } } }, requestState: state.secret } };
      const json = JSON.stringify(msg);
      const body = ct === 'application/json' ? json : `event: message\ndata: ${json}\n\n`;
      const buf = Buffer.from(body, 'utf8');
      const t = createDlpTransform({ redactor, mode: 'redact' });
      const r = await runTransform(t, { 'content-type': ct }, chunk(buf, cuts), ctx);
      assert.equal(r.error, undefined);
      const text = Buffer.concat(r.out).toString('utf8');
      const out = JSON.parse(ct === 'application/json' ? text : text.slice('event: message\ndata: '.length).trim()) as typeof msg;
      assert.equal(out.result.requestState, state.secret, 'requestState unchanged');
      assert.equal(out.id, 'call-1');
      assert.equal(out.result.inputRequests.q.params.message, `use [REDACTED:${leak.rule}]`.replace('[REDACTED:bearer-token]', 'Bearer [REDACTED:bearer-token]'));
    }),
    { numRuns: 40 },
  );
});

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

// ---- Protocol-opaque fields (mcp/opaque-fields.ts): never altered, in any chunking ----

/** A value an opaque field may hold: a secret (JWT-shaped requestState, a token cursor), escapes, numbers. */
const opaqueValue = fc.oneof(fc.constantFrom(...POOL), nasty, fc.integer(), fc.constant(null), fc.constantFrom(...POOL).map((s) => `${s}"\\${s}`));
/** Where the secrets of content go: strings, nested, and the names of opaque fields used as content keys. */
const content = fc.oneof(doc, fc.constantFrom(...POOL).map((s) => ({ requestState: s, cursor: s, id: s, progressToken: s, nested: { nextCursor: s } })));
const SUB = 'io.modelcontextprotocol/subscriptionId';

/** One JSON-RPC message with opaque fields, and the paths (with values) that must survive. */
const rpcMessage = fc
  .tuple(fc.constantFrom('response', 'request', 'notification'), opaqueValue, opaqueValue, opaqueValue, opaqueValue, content, fc.boolean())
  .map(([kind, a, b, c, d, body, withMeta]) => {
    const keep: [string[], unknown][] = [];
    let msg: Record<string, unknown>;
    if (kind === 'response') {
      const result: Record<string, unknown> = { resultType: 'input_required', requestState: b, nextCursor: c, content: body };
      if (withMeta) result._meta = { [SUB]: d, note: body };
      msg = { jsonrpc: '2.0', id: a, result };
      keep.push([['id'], a], [['result', 'requestState'], b], [['result', 'nextCursor'], c]);
      if (withMeta) keep.push([['result', '_meta', SUB], d]);
    } else {
      const params: Record<string, unknown> = { name: 'tool', cursor: b, requestState: c, arguments: body, progressToken: d };
      if (withMeta) params._meta = { progressToken: b, 'io.modelcontextprotocol/protocolVersion': '2026-07-28', [SUB]: a };
      msg = kind === 'request' ? { jsonrpc: '2.0', id: a, method: 'tools/call', params } : { jsonrpc: '2.0', method: 'notifications/progress', params };
      if (kind === 'request') keep.push([['id'], a]);
      keep.push([['params', 'cursor'], b], [['params', 'requestState'], c], [['params', 'progressToken'], d]);
      if (withMeta) keep.push([['params', '_meta', 'progressToken'], b], [['params', '_meta', SUB], a]);
    }
    return { msg, keep };
  });

const at = (v: unknown, path: readonly string[]): unknown => path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], v);

/** Content: everything but the opaque values (which may legitimately hold a secret). */
function contentStrings(msg: unknown, keep: readonly (readonly string[])[]): string[] {
  const copy = JSON.parse(JSON.stringify(msg)) as unknown;
  for (const path of keep) {
    const parent = at(copy, path.slice(0, -1)) as Record<string, unknown>;
    delete parent[path.at(-1)!];
  }
  return strings(copy);
}

test('property: JSON-RPC opaque fields (id, requestState, cursors, progress tokens, subscription ids) are never altered; content is; every chunking alike', () => {
  fc.assert(
    fc.property(fc.array(rpcMessage, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.boolean(), fc.array(fc.nat(3000), { maxLength: 20 }), (msgs, batch, pretty, cuts) => {
      const value = batch ? msgs.map((m) => m.msg) : msgs[0]!.msg;
      const text = JSON.stringify(value, null, pretty ? 2 : undefined);
      const out = redactor.redact(text, { json: true, jsonRpc: true });
      const parsed = JSON.parse(out.text) as unknown;
      const list = batch ? (parsed as unknown[]) : [parsed];
      (batch ? msgs : msgs.slice(0, 1)).forEach((m, i) => {
        for (const [path, v] of m.keep) assert.deepEqual(at(list[i], path), v, `${path.join('.')} kept`);
        for (const s of contentStrings(list[i], m.keep.map(([p]) => p))) for (const secret of POOL) assert.ok(!s.includes(secret), `${secret} left in content ${s}`);
      });
      const latin = Buffer.from(text, 'utf8').toString('latin1');
      const sink = new StringSink();
      const sc = redactor.stream(true, undefined, { jsonRpc: true });
      for (const c of chunk(Buffer.from(latin, 'latin1'), cuts)) sc.push(c.toString('latin1'), sink);
      sc.end(sink);
      assert.equal(Buffer.from(sink.out, 'latin1').toString('utf8'), out.text);
    }),
    { numRuns: 200 },
  );
});

test('opaque fields: keys written with escapes count; values that are objects are content; other JSON is content throughout', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsIndoYXQiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';
  // `\u0072equestState` is `requestState` to every JSON parser.
  const escapedKey = `{"jsonrpc":"2.0","id":1,"result":{"\\u0072equestState":"${jwt}","text":"${jwt}"}}`;
  assert.deepEqual(JSON.parse(redactor.redact(escapedKey, { json: true, jsonRpc: true }).text), { jsonrpc: '2.0', id: 1, result: { requestState: jwt, text: '[REDACTED:jwt]' } });
  // An opaque path holding an object is scanned like any content.
  const objectValue = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { requestState: { inner: jwt } } });
  assert.deepEqual(JSON.parse(redactor.redact(objectValue, { json: true, jsonRpc: true }).text), { jsonrpc: '2.0', id: 1, result: { requestState: { inner: '[REDACTED:jwt]' } } });
  // Deeper than a message's own fields, the same names are content (a tool's result may hold anything).
  const nested = JSON.stringify({ jsonrpc: '2.0', id: 1, result: { structuredContent: { requestState: jwt, id: jwt }, content: [{ id: jwt }] } });
  assert.ok(!redactor.redact(nested, { json: true, jsonRpc: true }).text.includes(jwt));
  // Without jsonRpc (JSON that is not an MCP message) nothing is opaque.
  const plain = JSON.stringify({ id: jwt, requestState: jwt });
  assert.deepEqual(JSON.parse(redactor.redact(plain, { json: true }).text), { id: '[REDACTED:jwt]', requestState: '[REDACTED:jwt]' });
  // A numeric id is not turned into a string by a custom rule that matches digits.
  const digits = createRedactor({ patterns: [{ name: 'six-digits', regex: '[0-9]{6}', replace: '[N]' }] });
  const numeric = JSON.stringify({ jsonrpc: '2.0', id: 123456, result: { total: 123456 } });
  assert.deepEqual(JSON.parse(digits.redact(numeric, { json: true, jsonRpc: true }).text), { jsonrpc: '2.0', id: 123456, result: { total: '[N]' } });
});

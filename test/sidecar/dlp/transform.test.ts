import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { createRedactor } from '../../../sidecar/dlp/redactor.ts';
import { redactRequestBody } from '../../../sidecar/dlp/request.ts';
import { createDlpTransform } from '../../../sidecar/dlp/transform.ts';
import { upstreamResponseHead } from '../../../sidecar/context.ts';
import { bodyKind } from '../../../sidecar/proxy/media-type.ts';
import { chunk, runTransform } from './secrets.ts';

const redactor = createRedactor({ patterns: [] });
const SECRET = 'xoxb-1234567890-1234567890123-abcdefABCDEF0123456789ab';
const TEXT = `status ok\nslack ${SECRET}\nmail ops@example.com\n${'padding line\n'.repeat(5000)}end\n`;
const EXPECTED = redactor.redact(TEXT, { json: false }).text;

test('content types: SSE, JSON (+json), everything else scanned as bytes', () => {
  assert.equal(bodyKind('text/event-stream; charset=utf-8'), 'sse');
  assert.equal(bodyKind('Application/JSON'), 'json');
  assert.equal(bodyKind('application/problem+json'), 'json');
  assert.equal(bodyKind('image/png'), 'text');
  assert.equal(bodyKind(undefined), 'text');
});

for (const [coding, encode] of [
  ['gzip', zlib.gzipSync],
  ['x-gzip', zlib.gzipSync],
  ['deflate', zlib.deflateSync],
  ['br', zlib.brotliCompressSync],
] as const) {
  test(`Content-Encoding ${coding}: decoded, redacted, sent as identity; ETag dropped`, async () => {
    const body = encode(Buffer.from(TEXT));
    const t = createDlpTransform({ redactor, mode: 'redact' });
    const r = await runTransform(t, { 'content-type': 'text/plain', 'content-encoding': coding, 'content-length': String(body.length), etag: 'W/"1"' }, chunk(body, [1, 7, 100, 101, 5000]));
    assert.equal(r.error, undefined);
    assert.equal(Buffer.concat(r.out).toString(), EXPECTED);
    assert.ok(EXPECTED.includes('[REDACTED:slack-bot-token]') && !EXPECTED.includes(SECRET));
    for (const h of ['content-encoding', 'etag']) assert.equal(r.headers[h], undefined, h);
  });
}

test('an unknown or stacked Content-Encoding is refused with a 502 Reply, never passed unscanned', () => {
  const t = createDlpTransform({ redactor, mode: 'redact' });
  for (const ce of ['zstd', 'compress', 'gzip, br']) {
    const head = upstreamResponseHead(200, { 'content-type': 'application/json', 'content-encoding': ce });
    const r = t(head, undefined as never);
    assert.ok(r && 'status' in r, ce);
    assert.equal((r as { status: number }).status, 502);
    assert.equal((r as { code: string }).code, 'ERR_DLP_BLOCKED');
  }
  const identity = t(upstreamResponseHead(200, { 'content-encoding': 'identity' }), undefined as never);
  assert.ok(identity && 'stream' in identity);
});

test('a Content-Encoding named like an Object property (constructor, toString, __proto__) is unknown too: refused', () => {
  const t = createDlpTransform({ redactor, mode: 'redact' });
  for (const ce of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const r = t(upstreamResponseHead(200, { 'content-type': 'text/plain', 'content-encoding': ce }), undefined as never);
    assert.ok(r && 'status' in r, ce);
    assert.equal((r as { status: number }).status, 502, ce);
  }
});

test('an empty body with a Content-Encoding (HEAD, 204, 304) ends cleanly', async () => {
  const t = createDlpTransform({ redactor, mode: 'redact' });
  const r = await runTransform(t, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, []);
  assert.equal(r.error, undefined);
  assert.equal(Buffer.concat(r.out).length, 0);
});

test('a decompression bomb over the cap fails the stream; no plaintext beyond what was scanned leaves', async () => {
  const secretTail = `\n${SECRET}\n`;
  const bomb = zlib.gzipSync(Buffer.concat([Buffer.alloc(4 * 1024 * 1024, 0x61), Buffer.from(secretTail)]));
  const t = createDlpTransform({ redactor, mode: 'redact', maxDecodedBytes: 1024 * 1024 });
  const r = await runTransform(t, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, [bomb]);
  assert.equal((r.error as { code?: string } | undefined)?.code, 'ERR_DLP_BLOCKED');
  const out = Buffer.concat(r.out);
  assert.ok(out.length <= 1024 * 1024, `${out.length} bytes left`);
  assert.ok(!out.includes('xoxb'));
});

test('a corrupt gzip body fails the stream instead of passing bytes through', async () => {
  const good = zlib.gzipSync(Buffer.from(TEXT));
  const corrupt = Buffer.concat([good.subarray(0, 40), Buffer.from('garbage-garbage-garbage')]);
  const t = createDlpTransform({ redactor, mode: 'redact' });
  const r = await runTransform(t, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }, [corrupt]);
  assert.equal((r.error as { code?: string } | undefined)?.code, 'ERR_DLP_BLOCKED');
  assert.ok(!Buffer.concat(r.out).includes('garbage'));
});

test('binary content is scanned as bytes, not passed unscanned', async () => {
  const bin = Buffer.concat([Buffer.from([0, 255, 0x89, 0x50]), Buffer.from(` AKIAIOSFODNN7ABCDEFG `), Buffer.from([0xc3, 0x28, 0xfe])]);
  const t = createDlpTransform({ redactor, mode: 'redact' });
  const r = await runTransform(t, { 'content-type': 'application/octet-stream' }, chunk(bin, 'bytes'));
  assert.deepEqual(Buffer.concat(r.out), Buffer.concat([Buffer.from([0, 255, 0x89, 0x50]), Buffer.from(' [REDACTED:aws-access-key-id] '), Buffer.from([0xc3, 0x28, 0xfe])]));
});

test('block mode, JSON-RPC body: replaced by a JSON-RPC error with the same id; clean bodies pass unchanged', async () => {
  const t = createDlpTransform({ redactor, mode: 'block' });
  const bad = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 42, result: { content: [{ type: 'text', text: `token ${SECRET}` }] } }));
  const r = await runTransform(t, { 'content-type': 'application/json' }, chunk(bad, [10, 20]));
  const err = JSON.parse(Buffer.concat(r.out).toString()) as { jsonrpc: string; id: number; error: { code: number; message: string; data: { rules: string[] } } };
  assert.equal(err.jsonrpc, '2.0');
  assert.equal(err.id, 42);
  assert.equal(err.error.code, -32603, 'not -32001: the MCP SDK reads that as a request timeout');
  assert.deepEqual(err.error.data.rules, ['slack-bot-token']);
  const good = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 43, result: { ok: true } }));
  const r2 = await runTransform(t, { 'content-type': 'application/json' }, [good]);
  assert.deepEqual(Buffer.concat(r2.out), good);
  const r3 = await runTransform(t, { 'content-type': 'text/plain' }, [Buffer.from(TEXT)]);
  assert.match(Buffer.concat(r3.out).toString(), /^Response blocked by DLP policy \(rules: slack-bot-token, email\)/);
});

test('onMatch gets the rule name per redaction, never the secret', async () => {
  const seen: string[] = [];
  const t = createDlpTransform({ redactor, mode: 'redact', onMatch: (rule) => seen.push(rule) });
  await runTransform(t, { 'content-type': 'text/plain' }, [Buffer.from(TEXT)]);
  // runTransform runs the whole-body form and the streamed form: each reports every match once.
  assert.deepEqual(seen, ['slack-bot-token', 'email', 'slack-bot-token', 'email']);
});

test('request bodies: JSON-RPC arguments redacted, JSON stays valid; clean bodies are the same Buffer', () => {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: `use ${SECRET} please` } } }));
  const r = redactRequestBody(redactor, body);
  assert.deepEqual(r.matches, ['slack-bot-token']);
  const parsed = JSON.parse(r.body.toString()) as { params: { arguments: { message: string } } };
  assert.equal(parsed.params.arguments.message, 'use [REDACTED:slack-bot-token] please');
  const clean = Buffer.from('{"jsonrpc":"2.0","id":2,"method":"ping"}');
  assert.equal(redactRequestBody(redactor, clean).body, clean);
});

test('whole(): a body no rule can match passes without a scanner; every escaped spelling of an anchor is still scanned', async () => {
  // A redactor that counts the scanners it hands out.
  let scanners = 0;
  const counting: typeof redactor = { ...redactor, stream: (...args) => (scanners++, redactor.stream(...args)) };
  const t = createDlpTransform({ redactor: counting, mode: 'redact' });
  const rewrite = (body: string, type = 'application/json'): Buffer => {
    const r = t(upstreamResponseHead(200, { 'content-type': type }), undefined as never) as { whole(b: Buffer): Buffer };
    return r.whole(Buffer.from(body));
  };
  const clean = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'nothing secret here\n\tat all' }] } }));
  const out = (t(upstreamResponseHead(200, { 'content-type': 'application/json' }), undefined as never) as { whole(b: Buffer): Buffer }).whole(clean);
  assert.equal(out, clean, 'the same Buffer');
  assert.equal(scanners, 0, 'no scanner for a body no rule can match');

  // Each anchor character written as a JSON \u escape (and '/' as \/), inside a secret that the
  // streamed form redacts: whole() must redact it too (runTransform compares the two).
  const aws = 'AKIAIOSFODNN7EXAMPLE';
  const slack = 'hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
  for (const secret of [aws, slack, `ghp_${'a1B2'.repeat(9)}`, 'Bearer abcdefghijklmnopqrstuvwxyz0123456789']) {
    for (let i = 0; i < Math.min(secret.length, 12); i++) {
      const c = secret[i]!;
      const spelled = c === '/' ? '\\/' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
      const body = `{"result":"x ${secret.slice(0, i)}${spelled}${secret.slice(i + 1)} y"}`;
      const r = await runTransform(t, { 'content-type': 'application/json' }, [Buffer.from(body)]);
      const text = Buffer.concat(r.out).toString();
      assert.match(text, /\[REDACTED:/, `escaped at ${i}: ${body}`);
      assert.equal(rewrite(body).toString(), text);
    }
  }
  // As bytes (not JSON) an escape is just text, and a plain anchor is always scanned.
  scanners = 0;
  rewrite(`plain ${aws}`, 'text/plain');
  assert.equal(scanners, 1);
});

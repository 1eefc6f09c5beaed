/**
 * What DLP covers at the edge (issue 9, items 4, 13 and 14): exempt-path responses and response
 * headers are scanned (protocol headers left alone), JSON escapes hide no secret in either
 * direction, and a streamed body is released as it is written, not held back to the end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { createRedactor } from '../../../sidecar/dlp/redactor.ts';
import { CountingSink } from './secrets.ts';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';

const KEY = 'dlp-coverage-key-2718';
const AWS = 'AKIAIOSFODNN7ABCDEFG';
const GHP = `ghp_${'a1B2c3D4e5'.repeat(3)}abcdef`;
const JWT_SESSION = 'eyJhbGciOiJIUzI1NiJ9.eyJzZXNzaW9uIjoiYWJjZGVmZ2hpamtsbW5vcCJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

describe('DLP at the edge', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  let lines: ServerResponse | undefined;
  before(async () => {
    up = await startUpstream((req, res, body) => {
      if (req.url === '/status') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, debug: `key ${AWS}` }));
      if (req.url === '/redirect') return void res.writeHead(302, { location: `https://example.com/cb?token=${GHP}`, 'x-debug-token': AWS, 'mcp-session-id': JWT_SESSION, 'content-length': '0' }).end();
      if (req.url === '/escaped') return void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"jsonrpc":"2.0","id":1,"result":{"text":"\\u0041KIAIOSFODNN7ABCDEFG and hooks.slack.com\\/services\\/T00000000\\/B00000000\\/XXXXXXXXXXXXXXXXXXXXXXXX"}}`);
      if (req.url === '/ndjson') {
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.flushHeaders();
        lines = res;
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echoed: body }));
    });
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_EXEMPT_PATHS: '/health,/status', MCP_AUTH_DLP_REQUESTS: 'true' });
  });
  after(async () => {
    lines?.end();
    await sc.close();
    await up.close();
  });

  test('an exempt path is served without a key, and its response is scanned like any other', async () => {
    const res = await fetch(`${sc.url}/status`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true, debug: 'key [REDACTED:aws-access-key-id]' });
  });

  test('response headers are scanned (Location, custom headers); Mcp-Session-Id, a protocol value, is left alone', async () => {
    const res = await fetch(`${sc.url}/redirect`, { headers: { 'x-api-key': KEY }, redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), 'https://example.com/cb?token=[REDACTED:github-pat]');
    assert.equal(res.headers.get('x-debug-token'), '[REDACTED:aws-access-key-id]');
    assert.equal(res.headers.get('mcp-session-id'), JWT_SESSION);
  });

  test('JSON escapes hide nothing in a response: \\u0041KIA and \\/-escaped URLs are redacted, the JSON stays valid', async () => {
    const res = await fetch(`${sc.url}/escaped`, { headers: { 'x-api-key': KEY } });
    const doc = (await res.json()) as { result: { text: string } };
    assert.equal(doc.result.text, '[REDACTED:aws-access-key-id] and [REDACTED:slack-webhook-url]');
  });

  test('JSON escapes hide nothing in a request: the server gets the escaped key redacted, in valid JSON', async () => {
    const body = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"message":"\\u0041\\u004bIAIOSFODNN7ABCDEFG"}}}`;
    const res = await fetch(`${sc.url}/mcp`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body });
    assert.equal(res.status, 200);
    const seen = JSON.parse(up.seen.at(-1)!.body) as { params: { arguments: { message: string } } };
    assert.equal(seen.params.arguments.message, '[REDACTED:aws-access-key-id]');
    assert.ok(!JSON.stringify(seen).includes('KIAIOSFODNN7'));
  });

  test('NDJSON lines reach the client as they are written, not at the end of the stream', async () => {
    const res = await fetch(`${sc.url}/ndjson`, { headers: { 'x-api-key': KEY } });
    const reader = res.body!.getReader();
    let got = '';
    // Each line is written only after the previous one arrived: a sidecar that held text back
    // would leave this waiting (bounded by the read timeout below).
    for (let i = 0; i < 5; i++) {
      lines!.write(`${JSON.stringify({ n: i, text: 'status update, nothing secret here' })}\n`);
      const deadline = Date.now() + 5000;
      while (!got.includes(`"n":${i}`)) {
        const r = await Promise.race([reader.read(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`line ${i} was held back: got ${JSON.stringify(got)}`)), Math.max(1, deadline - Date.now())))]);
        if (r.done) throw new Error('the stream ended early');
        got += Buffer.from(r.value).toString();
      }
    }
    lines!.end();
    await reader.cancel().catch(() => {});
    assert.equal(got.split('\n').filter((l) => l !== '').length, 5);
  });
});

describe('the scanner releases text as soon as no match can still span it', () => {
  const redactor = createRedactor({ patterns: [] });

  for (const json of [false, true]) {
    test(`${json ? 'JSON' : 'text'}: prose leaves at once but for what could still begin a match; a possible secret waits until decided`, () => {
      const s = redactor.stream(json);
      const sink = new CountingSink();
      let fed = 0;
      const push = (t: string): number => {
        s.push(t, sink);
        fed += t.length;
        return fed - sink.accounted;
      };
      if (json) push('{"text":"');
      // Only the last word waits: an '@' may still follow it and make it an email's local part.
      assert.equal(push('the quick brown fox jumps over the lazy dog, twice over the fence'), 'fence'.length);
      assert.equal(push(' and then a full stop.\n'), 0, 'a line that cannot start a match leaves whole');
      // A key cut in the middle waits (it could be longer, or be followed by more of itself)...
      assert.ok(push(' key AKIAIOSFODNN7') >= 'AKIAIOSFODNN7'.length);
      // ...and is decided, and redacted, once enough follows.
      push(`ABCDEFG ${'and more plain text that follows the key for a while. '.repeat(3)}\n`);
      assert.ok(sink.out.includes('[REDACTED:aws-access-key-id]'), sink.out);
      assert.ok(!sink.out.includes('AKIA'));
      if (json) push('"}');
      s.end(sink);
      assert.equal(sink.accounted, fed);
    });
  }
});

/**
 * What a request may carry past the edge (issue 9, items 5, 6, 7, 9 and 12): no body on a method
 * that takes none (exempt paths included), tool policy and audit for every body whatever the
 * method, no header whose name has `_`, no body read before authentication, and Expect:
 * 100-continue answered only once the request is authorized.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { MODERN_META, MODERN_VERSION } from '../../helpers/modern-request.ts';
import { rawRequest } from '../../helpers/raw-http.ts';

const KEY = 'request-rules-key-4242';
const H = `Host: sidecar\r\nX-API-Key: ${KEY}\r\n`;
const call = (tool: string): string => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: tool, arguments: {} } });

describe('request rules at the edge', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    up = await startUpstream();
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_DENY_TOOLS: 'get-env', MCP_AUTH_EXEMPT_PATHS: '/health' });
  });
  after(async () => {
    await sc.close();
    await up.close();
  });

  for (const [name, bytes] of [
    ['GET on an exempt path, Content-Length body', `GET /health HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: 38\r\n\r\n{"jsonrpc":"2.0","id":1,"method":"x"}`],
    ['HEAD on an exempt path, chunked body', `HEAD /health HTTP/1.1\r\nHost: sidecar\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nping\r\n0\r\n\r\n`],
    ['GET on an exempt path with a smuggled second request as body', `GET /health HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 44\r\n\r\nPOST /mcp HTTP/1.1\r\nHost: sidecar\r\n\r\n`],
    ['GET with a body, authenticated', `GET /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: ${call('get-env').length}\r\n\r\n${call('get-env')}`],
    ['DELETE with a tools/call body', `DELETE /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: ${call('get-env').length}\r\n\r\n${call('get-env')}`],
    ['OPTIONS with a tools/call body', `OPTIONS /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: ${call('echo').length}\r\n\r\n${call('echo')}`],
  ] as const) {
    test(`${name}: 400, the connection closed, nothing forwarded`, async () => {
      const n = up.seen.length;
      const r = await rawRequest(sc.url, bytes);
      assert.equal(r.status, 400);
      if (!name.startsWith('HEAD')) assert.match(r.body, /must not carry a body/);
      assert.match(r.head, /\r\nconnection: close/i, 'the body is never read: the connection closes');
      assert.equal(up.seen.length, n, 'nothing reached the upstream');
    });
  }

  test('GET and HEAD on an exempt path without a body still pass without a key; Content-Length: 0 is no body', async () => {
    assert.equal((await fetch(`${sc.url}/health`)).status, 200);
    assert.equal((await fetch(`${sc.url}/health`, { method: 'HEAD' })).status, 200);
    const r = await rawRequest(sc.url, `GET /health HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 0\r\n\r\n`);
    assert.equal(r.status, 200);
  });

  for (const method of ['PUT', 'PATCH']) {
    test(`${method} carrying a JSON-RPC tools/call is judged and audited like a POST`, async () => {
      const n = up.seen.length;
      const denied = await fetch(`${sc.url}/mcp`, { method, headers: { 'x-api-key': KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: call('get-env') });
      assert.equal(denied.status, 200);
      const rpc = (await denied.json()) as { error?: { message: string } };
      assert.match(rpc.error?.message ?? '', /Tool "get-env" is not permitted/);
      assert.equal(up.seen.length, n, 'the denied call never reached the upstream');
      const allowed = await fetch(`${sc.url}/mcp`, { method, headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: call('echo') });
      assert.equal(allowed.status, 200);
      assert.equal(up.seen.at(-1)!.method, method);
      const audits = sc.logs.filter((l) => l.name === 'audit' && l.tool !== undefined);
      assert.ok(audits.some((a) => a.tool === 'get-env' && a.decision === 'deny'), 'the refused call was audited');
      assert.ok(audits.some((a) => a.tool === 'echo' && a.decision === 'allow'), 'the allowed call was audited');
    });

    test(`${method} with a body tool policy cannot read is refused while tool rules are set`, async () => {
      const n = up.seen.length;
      const r = await fetch(`${sc.url}/mcp`, { method, headers: { 'x-api-key': KEY, 'content-type': 'text/plain' }, body: call('get-env') });
      assert.equal(r.status, 415);
      assert.equal(up.seen.length, n);
    });
  }

  test('header names with an underscore never reach the upstream (CGI/WSGI fold _ into -)', async () => {
    const r = await rawRequest(
      sc.url,
      `GET /mcp HTTP/1.1\r\n${H}X_MCP_Auth_Subject: admin\r\nX_MCP_Auth_Groups: admins\r\nX_Forwarded_For: 6.6.6.6\r\nX_Forwarded_Proto: https\r\nX-Ordinary: kept\r\nMy_Header: gone\r\n\r\n`,
      { timeoutMs: 2000 },
    );
    assert.equal(r.status, 200);
    const h = up.seen.at(-1)!.headers;
    for (const name of Object.keys(h)) assert.ok(!name.includes('_'), `${name} was forwarded`);
    assert.equal(h['x-ordinary'], 'kept');
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
  });

  test('a 2026-07-28 Mcp-Param-<name> whose tool-declared name has an underscore is forwarded (it can forge nothing)', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'echo', arguments: { file_path: '/tmp/a.txt' }, _meta: MODERN_META } });
    const res = await fetch(`${sc.url}/mcp`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': 'tools/call', 'mcp-name': 'echo', 'mcp-param-file_path': '/tmp/a.txt', x_forged: 'gone' },
      body,
    });
    assert.equal(res.status, 200, await res.text());
    const h = up.seen.at(-1)!.headers;
    assert.equal(h['mcp-param-file_path'], '/tmp/a.txt');
    assert.equal(h.x_forged, undefined, 'other names with _ are still dropped');
  });

  test('an unauthenticated POST is refused before its body is read: the 401 comes while the body is still unsent', async () => {
    const n = up.seen.length;
    const result = await new Promise<{ head: string; closed: boolean }>((resolve, reject) => {
      const s = connect(Number(new URL(sc.url).port), '127.0.0.1');
      let data = '';
      // Announce 3 MB of JSON and send none of it: an answer now means nothing was waited for.
      s.write('POST /mcp HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n\r\n');
      const timer = setTimeout(() => reject(new Error(`no answer without the body: ${JSON.stringify(data)}`)), 5000);
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('close', () => {
        clearTimeout(timer);
        resolve({ head: data, closed: true });
      });
      s.on('error', () => {});
    });
    assert.match(result.head, /^HTTP\/1\.1 401 /);
    assert.match(result.head, /\r\nconnection: close/i, 'the unread body is never drained: the connection closes');
    assert.equal(up.seen.length, n);
  });

  test('60 slow clients sending bodies on exempt GETs are all refused at once, each body unread', async () => {
    const port = Number(new URL(sc.url).port);
    const answers = await Promise.all(
      Array.from({ length: 60 }, () =>
        new Promise<string>((resolve, reject) => {
          const s = connect(port, '127.0.0.1');
          let data = '';
          s.write('GET /health HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: 4000000\r\n\r\n{"a":"');
          const timer = setTimeout(() => reject(new Error('no answer')), 5000);
          s.on('data', (d: Buffer) => (data += d.toString()));
          s.on('close', () => {
            clearTimeout(timer);
            resolve(data);
          });
          s.on('error', () => {});
        }),
      ),
    );
    for (const a of answers) assert.match(a, /^HTTP\/1\.1 400 /);
  });

  for (const [label, contentType, size] of [
    ['JSON (read whole)', 'application/json', 2_000_000],
    ['octet-stream (streamed)', 'application/octet-stream', 2_000_000],
  ] as const) {
    test(`Expect: 100-continue with a 2 MB ${label} body: the sidecar answers the continue and forwards the body whole`, async () => {
      const body = contentType === 'application/json' ? Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping', params: { pad: 'p'.repeat(size - 60) } })) : Buffer.alloc(size, 0x61);
      // A body tool policy cannot read passes only where no tool rule is set.
      const target = contentType === 'application/json' ? sc : await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY });
      const res = await new Promise<{ status: number; continued: boolean; text: string }>((resolve, reject) => {
        let continued = false;
        const req = request(`${target.url}/mcp`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': contentType, 'content-length': body.length, expect: '100-continue' } }, (r) => {
          let text = '';
          r.on('data', (d: Buffer) => (text += d.toString()));
          r.on('end', () => resolve({ status: r.statusCode!, continued, text }));
        });
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('error', reject);
      });
      if (target !== sc) await target.close();
      assert.equal(res.continued, true, '100 Continue arrived');
      assert.equal(res.status, 200, res.text);
      const seen = up.seen.at(-1)!;
      assert.equal(seen.body.length, body.length, 'the whole body reached the upstream');
      assert.equal(seen.headers.expect, undefined, 'the expectation was answered here, not forwarded');
    });
  }

  test('Expect: 100-continue without a key: 401 at once, no 100 Continue, no body asked for', async () => {
    const n = up.seen.length;
    const r = await rawRequest(sc.url, 'POST /mcp HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 2000000\r\n\r\n');
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.head, /100 Continue/);
    assert.equal(up.seen.length, n);
  });
});

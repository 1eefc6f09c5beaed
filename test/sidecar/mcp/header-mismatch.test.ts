/**
 * Issue 10, acceptance 3: raw requests for every header/body disagreement the 2026-07-28 revision
 * defines. Each gets HTTP 400 with JSON-RPC -32020 (HeaderMismatch) from the sidecar, and the v2
 * server behind it never sees the request. The same request with agreeing headers reaches the server
 * and works, so no refusal here is the server's or an accident of the request's shape.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { startV2Server, type V2Server } from '../../helpers/v2-server.ts';
import { MODERN_META, MODERN_VERSION, b64, std } from '../../helpers/modern-request.ts';
import { rawRequest } from '../../helpers/raw-http.ts';

const KEY = 'mismatch-key-0123456789abcdef';
const V = MODERN_VERSION;
const META = MODERN_META;

interface Case {
  readonly what: string;
  readonly body: Record<string, unknown>;
  /** Agreeing headers, then the shape's change (a value, or undefined to leave the header out). */
  readonly good: Record<string, string>;
  readonly bad: Record<string, string | undefined>;
  readonly header: string;
}

const echo = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' }, _meta: META } });

const CASES: Case[] = [
  { what: 'Mcp-Method names another method', body: echo(1), good: std('tools/call', 'echo'), bad: { 'mcp-method': 'tools/list' }, header: 'mcp-method' },
  { what: 'Mcp-Name names another tool', body: echo(2), good: std('tools/call', 'echo'), bad: { 'mcp-name': 'leak' }, header: 'mcp-name' },
  { what: 'a Base64 Mcp-Name decodes to another tool', body: echo(3), good: std('tools/call', b64('echo')), bad: { 'mcp-name': b64('leak') }, header: 'mcp-name' },
  { what: 'a broken Base64 sentinel', body: echo(4), good: std('tools/call', 'echo'), bad: { 'mcp-name': '=?base64?ZWNobw?=' }, header: 'mcp-name' },
  { what: 'tools/call without Mcp-Name', body: echo(5), good: std('tools/call', 'echo'), bad: { 'mcp-name': undefined }, header: 'mcp-name' },
  {
    what: 'resources/read without Mcp-Name',
    body: { jsonrpc: '2.0', id: 6, method: 'resources/read', params: { uri: 'file:///config.json', _meta: META } },
    good: std('resources/read', 'file:///config.json'),
    bad: { 'mcp-name': undefined },
    header: 'mcp-name',
  },
  {
    what: 'resources/read with another URI in Mcp-Name',
    body: { jsonrpc: '2.0', id: 7, method: 'resources/read', params: { uri: 'file:///config.json', _meta: META } },
    good: std('resources/read', 'file:///config.json'),
    bad: { 'mcp-name': 'file:///etc/passwd' },
    header: 'mcp-name',
  },
  {
    what: 'prompts/get without Mcp-Name',
    body: { jsonrpc: '2.0', id: 8, method: 'prompts/get', params: { name: 'greet', arguments: { name: 'Ada' }, _meta: META } },
    good: std('prompts/get', 'greet'),
    bad: { 'mcp-name': undefined },
    header: 'mcp-name',
  },
  { what: 'MCP-Protocol-Version differs from the _meta version', body: echo(9), good: std('tools/call', 'echo'), bad: { 'mcp-protocol-version': '2025-11-25' }, header: 'mcp-protocol-version' },
  { what: 'MCP-Protocol-Version missing', body: echo(10), good: std('tools/call', 'echo'), bad: { 'mcp-protocol-version': undefined }, header: 'mcp-protocol-version' },
  { what: 'Mcp-Method missing', body: echo(11), good: std('tools/call', 'echo'), bad: { 'mcp-method': undefined }, header: 'mcp-method' },
  {
    what: 'a modern version header on a body without the _meta version',
    body: { jsonrpc: '2.0', id: 12, method: 'tools/list', params: { _meta: META } },
    good: std('tools/list'),
    bad: {},
    header: 'mcp-protocol-version',
  },
  {
    what: 'Mcp-Param-Region with a value no argument has',
    body: { jsonrpc: '2.0', id: 13, method: 'tools/call', params: { name: 'query', arguments: { region: 'eu-west-1', sql: 's' }, _meta: META } },
    good: { ...std('tools/call', 'query'), 'mcp-param-region': 'eu-west-1' },
    bad: { 'mcp-param-region': 'us-east-1' },
    header: 'mcp-param-region',
  },
];

describe('header/body mismatches are refused by the sidecar (v2 server behind it)', () => {
  let server: V2Server;
  let sidecar: RunningSidecar;
  before(async () => {
    server = await startV2Server('json');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEY });
  });
  after(async () => {
    await sidecar?.close();
    await server?.close();
  });

  const post = (body: unknown, headers: Record<string, string | undefined>) => {
    const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-api-key': KEY };
    for (const [k, v] of Object.entries(headers)) if (v !== undefined) h[k] = v;
    return fetch(`${sidecar.url}/mcp`, { method: 'POST', headers: h, body: JSON.stringify(body) });
  };

  for (const c of CASES) {
    test(c.what, async () => {
      const ok = await post(c.body, c.good);
      assert.equal(ok.status, 200, `the agreeing request works: ${await ok.clone().text()}`);
      const okBody = (await ok.json()) as { result?: unknown; error?: unknown };
      assert.ok(okBody.result !== undefined, JSON.stringify(okBody));
      const seenBefore = server.seen.length;
      // The bad shape: the good headers with the shape's change (a modern header on a body that
      // lost its _meta version, for the one case whose change is in the body).
      const body = Object.keys(c.bad).length === 0 ? { ...c.body, params: { ...(c.body.params as object), _meta: {} } } : c.body;
      const res = await post(body, { ...c.good, ...c.bad });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const refused = (await res.json()) as { id: unknown; error: { code: number; message: string; data: { code: string; header: string } } };
      assert.equal(refused.id, c.body.id, 'the error answers the request id');
      assert.equal(refused.error.code, -32020);
      assert.match(refused.error.message, /^Header mismatch: /);
      assert.equal(refused.error.data.code, 'ERR_HEADER_MISMATCH');
      assert.equal(refused.error.data.header, c.header);
      assert.equal(server.seen.length, seenBefore, 'the server never saw the request');
    });
  }

  test('a header with bytes outside visible ASCII: 400, never forwarded', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 20, method: 'tools/call', params: { name: 'é', arguments: {}, _meta: META } });
    const seenBefore = server.seen.length;
    const head = `POST /mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nX-API-Key: ${KEY}\r\nMCP-Protocol-Version: ${V}\r\nMcp-Method: tools/call\r\nMcp-Name: `;
    const raw = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from('é', 'utf8'), Buffer.from(`\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`, 'latin1'), Buffer.from(body, 'utf8')]);
    const res = await rawRequest(sidecar.url, raw);
    assert.equal(res.status, 400);
    assert.match(res.body, /"code":-32020/);
    assert.match(res.body, /outside visible ASCII/);
    assert.equal(server.seen.length, seenBefore);
  });

  test('refusals are audited as denials with the era, and the log names the header', () => {
    const denied = sidecar.logs.filter((l) => l.name === 'audit' && l.reason === 'ERR_HEADER_MISMATCH');
    assert.ok(denied.length >= CASES.length);
    for (const a of denied) {
      assert.equal(a.decision, 'deny');
      assert.equal(a.era, 'modern');
      assert.equal(a.status, 400);
    }
    assert.ok(sidecar.logs.some((l) => l.msg === 'request' && l.code === 'ERR_HEADER_MISMATCH' && l.headerMismatch === 'mcp-name'));
  });
});

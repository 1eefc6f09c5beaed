/** The era decision and the mirrored-header checks, table-driven, with the expected reasons named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { readMessage } from '../../../sidecar/mcp/stage.ts';
import { checkMirroredHeaders, decodeMirrored, encodeMirrored } from '../../../sidecar/mcp/mirrored-headers.ts';
import { MODERN_META, MODERN_VERSION, b64, std } from '../../helpers/modern-request.ts';

const V = MODERN_VERSION;
const meta = MODERN_META;
const call = (name: string, args: unknown = {}, id: unknown = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: meta } });
const read = (uri: string) => ({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri, _meta: meta } });

function check(body: unknown, headers: IncomingHttpHeaders) {
  const h = { 'content-type': 'application/json', ...headers };
  const r = readMessage(Buffer.from(JSON.stringify(body)), h);
  assert.ok(r.ok);
  return { message: r.message, mismatch: checkMirroredHeaders(r.message, h) };
}

test('era: the body decides; the revision comes from _meta, the header, or initialize', () => {
  const cases: [unknown, IncomingHttpHeaders, 'legacy' | 'modern', string | undefined][] = [
    [call('echo'), std('tools/call', 'echo'), 'modern', V],
    [{ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }, {}, 'legacy', '2025-06-18'],
    [{ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-protocol-version': '2025-11-25' }, 'legacy', '2025-11-25'],
    [{ jsonrpc: '2.0', id: 3, method: 'tools/list' }, {}, 'legacy', undefined],
    [[{ jsonrpc: '2.0', id: 1, method: 'tools/list' }], {}, 'legacy', undefined],
    // A modern notification may carry only the version header (the SDK sends no Mcp-Method on one).
    [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, { 'mcp-protocol-version': V }, 'modern', V],
    // Without the claim, a modern header still makes it modern: and then a disagreement (below).
    [{ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { 'mcp-protocol-version': V }, 'modern', V],
  ];
  for (const [body, headers, era, version] of cases) {
    const { message } = check(body, headers);
    assert.equal(message.era, era, JSON.stringify(body));
    assert.equal(message.protocolVersion, version, JSON.stringify(body));
  }
});

test('headers that agree with the body pass, in both eras', () => {
  const ok: [unknown, IncomingHttpHeaders][] = [
    [call('echo'), std('tools/call', 'echo')],
    [call('wetter', { city: 'Zürich' }), std('tools/call', 'wetter')],
    [call('名前'), std('tools/call', b64('名前'))],
    [read('file:///a b.txt'), std('resources/read', b64('file:///a b.txt'))],
    [call('q', { region: 'us-west1', n: 42, deep: { flag: true } }), { ...std('tools/call', 'q'), 'mcp-param-region': 'us-west1', 'mcp-param-n': '42.0', 'mcp-param-flag': 'true' }],
    [call('q', { greeting: 'Hello, 世界' }), { ...std('tools/call', 'q'), 'mcp-param-greeting': b64('Hello, 世界') }],
    [{ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }, std('server/discover')],
    [{ jsonrpc: '2.0', id: 1, method: 'subscriptions/listen', params: { _meta: meta, notifications: { toolsListChanged: true } } }, std('subscriptions/listen')],
    [{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, { 'mcp-protocol-version': V }],
    // Legacy: no mirrored headers at all, or a 2025 version header.
    [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } }, { 'mcp-protocol-version': '2025-11-25' }],
    [[{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x' } }], { 'mcp-protocol-version': '2025-03-26' }],
  ];
  for (const [body, headers] of ok) assert.equal(check(body, headers).mismatch, undefined, JSON.stringify([body, headers]));
});

test('every header/body disagreement is named', () => {
  const bad: [string, unknown, IncomingHttpHeaders, string, RegExp][] = [
    ['method', call('echo'), std('tools/list', 'echo'), 'mcp-method', /Mcp-Method: "tools\/list" does not match the body's method "tools\/call"/],
    ['name', call('get-env'), std('tools/call', 'echo'), 'mcp-name', /Mcp-Name: "echo" does not match the body's params.name "get-env"/],
    ['Base64 name', call('get-env'), std('tools/call', b64('echo')), 'mcp-name', /Mcp-Name: "echo" does not match/],
    ['broken Base64', call('echo'), std('tools/call', '=?base64?ZWNo*?='), 'mcp-name', /not a valid =\?base64\?\.\.\.\?= value/],
    ['non-canonical Base64', call('echo'), std('tools/call', '=?base64?ZWNobw?='), 'mcp-name', /not a valid/],
    ['Base64 of invalid UTF-8', call('echo'), std('tools/call', '=?base64?/w==?='), 'mcp-name', /not a valid/],
    ['missing name (tools/call)', call('echo'), std('tools/call'), 'mcp-name', /Mcp-Name: required on a 2026-07-28 tools\/call request, and missing/],
    ['missing name (resources/read)', read('file:///x'), std('resources/read'), 'mcp-name', /required on a 2026-07-28 resources\/read/],
    ['missing name (prompts/get)', { jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'p', _meta: meta } }, std('prompts/get'), 'mcp-name', /required on a 2026-07-28 prompts\/get/],
    ['missing method', call('echo'), { 'mcp-protocol-version': V, 'mcp-name': 'echo' }, 'mcp-method', /Mcp-Method: required on every 2026-07-28 request/],
    ['missing version', call('echo'), { 'mcp-method': 'tools/call', 'mcp-name': 'echo' }, 'mcp-protocol-version', /MCP-Protocol-Version: required on every 2026-07-28 request/],
    ['header version vs _meta version', call('echo'), { ...std('tools/call', 'echo'), 'mcp-protocol-version': '2025-11-25' }, 'mcp-protocol-version', /"2025-11-25" does not match the body's _meta protocol version "2026-07-28"/],
    ['modern header, no _meta version', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, std('tools/list'), 'mcp-protocol-version', /names a 2026-07-28\+ revision, but the body's params._meta carries no/],
    ['Mcp-Param with no argument of that value', call('q', { region: 'us-west1' }), { ...std('tools/call', 'q'), 'mcp-param-region': 'eu-north1' }, 'mcp-param-region', /Mcp-Param-Region: its value is not the value of any argument/],
    ['Mcp-Param on another method', read('file:///x'), { ...std('resources/read', 'file:///x'), 'mcp-param-region': 'x' }, 'mcp-param-region', /only a tools\/call carries Mcp-Param headers/],
    ['Mcp-Param from an array item', call('q', { list: ['us-west1'] }), { ...std('tools/call', 'q'), 'mcp-param-region': 'us-west1' }, 'mcp-param-region', /is not the value of any argument/],
    ['Mcp-Name on a method without a name', { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } }, std('tools/list', 'echo'), 'mcp-name', /method "tools\/list" has no name or URI to mirror/],
    ['non-ASCII bytes in a header', call('é'), std('tools/call', Buffer.from('é', 'utf8').toString('latin1')), 'mcp-name', /characters outside visible ASCII/],
    ['legacy request, wrong Mcp-Method', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }, { 'mcp-method': 'tools/list' }, 'mcp-method', /does not match the body's method/],
    ['legacy batch with Mcp-Name', [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }], { 'mcp-name': 'x' }, 'mcp-name', /a batch has no single value to mirror/],
    // Two Mcp-Name headers reach Node (and the server behind it) joined: never equal to the body.
    ['duplicated Mcp-Name', call('echo'), std('tools/call', 'echo, echo'), 'mcp-name', /"echo, echo" does not match/],
  ];
  for (const [what, body, headers, header, reason] of bad) {
    const { mismatch } = check(body, headers);
    assert.ok(mismatch, what);
    assert.equal(mismatch.header, header, what);
    assert.match(mismatch.reason, reason, what);
  }
});

test('the Base64 sentinel: decoded strictly, and used for exactly the values that need it', () => {
  assert.equal(decodeMirrored('us-west1'), 'us-west1');
  assert.equal(decodeMirrored('=?base64?SGVsbG8sIOS4lueVjA==?='), 'Hello, 世界');
  assert.equal(decodeMirrored('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?='), '=?base64?literal?=');
  assert.equal(decodeMirrored('=?base64?not base64?='), undefined);
  // The revision's own examples.
  assert.equal(encodeMirrored('us-west1'), 'us-west1');
  assert.equal(encodeMirrored('Hello, 世界'), '=?base64?SGVsbG8sIOS4lueVjA==?=');
  assert.equal(encodeMirrored(' padded '), '=?base64?IHBhZGRlZCA=?=');
  assert.equal(encodeMirrored('line1\nline2'), '=?base64?bGluZTEKbGluZTI=?=');
  assert.equal(encodeMirrored('=?base64?literal?='), '=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=');
  for (const s of ['a', 'Zürich', ' x', '=?base64??=', '\t', 'ok']) assert.equal(decodeMirrored(encodeMirrored(s)), s);
});

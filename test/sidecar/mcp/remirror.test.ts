/** Mirrored headers after request DLP rewrote the body: they follow it, or the request is refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { readMessage } from '../../../sidecar/mcp/stage.ts';
import { remirror } from '../../../sidecar/mcp/remirror.ts';
import type { McpMessage } from '../../../sidecar/mcp/message.ts';
import { MODERN_META, b64 } from '../../helpers/modern-request.ts';

const msg = (body: unknown, headers: IncomingHttpHeaders = {}): McpMessage => {
  const r = readMessage(Buffer.from(JSON.stringify(body)), { 'content-type': 'application/json', ...headers });
  assert.ok(r.ok);
  return r.message;
};
const call = (name: string, args: unknown) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args, _meta: MODERN_META } });
const H = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call' };

test('headers take the new body values; unchanged ones are left alone; Base64 when needed', () => {
  const headers = { ...H, 'mcp-name': 'q', 'mcp-param-region': 'S3CR3T', 'mcp-param-n': '7', 'mcp-param-city': '=?base64?WsO8cmljaCBTM0NSM1Q=?=' };
  const before = msg(call('q', { region: 'S3CR3T', n: 7, where: { city: 'Zürich S3CR3T' } }), headers);
  const after = msg(call('q', { region: '[X]', n: 7, where: { city: 'Zürich [X]' } }), headers);
  assert.deepEqual(remirror(before, after, headers), { ok: true, set: { 'mcp-param-region': '[X]', 'mcp-param-city': b64('Zürich [X]') } });
  // Mcp-Name and Mcp-Method follow a redacted name too.
  const named = { ...H, 'mcp-name': 'tool-S3CR3T' };
  assert.deepEqual(remirror(msg(call('tool-S3CR3T', {}), named), msg(call('tool-[X]', {}), named), named), { ok: true, set: { 'mcp-name': 'tool-[X]' } });
});

test('one header standing for two arguments that were redacted differently: refused, never guessed', () => {
  const headers = { ...H, 'mcp-name': 'q', 'mcp-param-token': 'S3CR3T' };
  const before = msg(call('q', { a: 'S3CR3T', b: 'S3CR3T' }), headers);
  const after = msg(call('q', { a: '[X]', b: 'S3CR3T' }), headers);
  const r = remirror(before, after, headers);
  assert.deepEqual(r, { ok: false, header: 'mcp-param-token', reason: 'the arguments it mirrors were redacted differently' });
});

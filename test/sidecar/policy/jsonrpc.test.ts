import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MAX_BATCH, parseJsonRpc, type ParseResult } from '../../../sidecar/policy/jsonrpc.ts';
import { canonicalJson, MAX_DEPTH } from '../../../sidecar/policy/canonical-json.ts';

const JSON_CT = 'application/json';
const parse = (body: unknown, ct: string | undefined = JSON_CT): ParseResult => parseJsonRpc(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), ct);
function refused(r: ParseResult, status: number, rpcCode: number, text: RegExp, what?: string): void {
  assert.equal(r.ok, false, what);
  if (r.ok) return;
  assert.equal(r.reply.status, status);
  const body = r.reply.body as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.id, null);
  assert.equal(body.error.code, rpcCode);
  assert.match(body.error.message, text);
}
function calls(r: ParseResult) {
  assert.equal(r.ok, true, r.ok ? '' : JSON.stringify(r.reply.body));
  return r.ok ? r.calls : [];
}

test('a single request, a tools/call, a notification, a response', () => {
  assert.deepEqual(calls(parse({ jsonrpc: '2.0', id: 1, method: 'tools/list' })), [{ kind: 'request', batch: false, id: 1, method: 'tools/list' }]);
  const [c] = calls(parse({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'echo', arguments: { b: 1, a: 'x' } } }));
  const canon = '{"a":"x","b":1}';
  assert.deepEqual(c, { kind: 'request', batch: false, id: 'a', method: 'tools/call', tool: 'echo', argsSha256: createHash('sha256').update(canon).digest('hex'), argsBytes: canon.length });
  assert.deepEqual(calls(parse({ jsonrpc: '2.0', method: 'notifications/initialized' })), [{ kind: 'notification', batch: false, id: undefined, method: 'notifications/initialized' }]);
  assert.deepEqual(calls(parse({ jsonrpc: '2.0', id: 9, result: {} })), [{ kind: 'response', batch: false, id: 9, method: '' }]);
  assert.deepEqual(calls(parse({ jsonrpc: '2.0', id: null, error: { code: 1, message: 'x' } }))[0]?.kind, 'response');
});

test('ids are typed: 1 and "1" are different requests; a response may share a request id', () => {
  assert.equal(calls(parse([{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: '1', method: 'ping' }, { jsonrpc: '2.0', id: 1, result: {} }])).length, 3);
});

test('a batch keeps order and marks every call; a batch of one is still a batch', () => {
  const cs = calls(parse([
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get-env' } },
  ]));
  assert.deepEqual(cs.map((c) => [c.kind, c.method, c.tool, c.batch]), [['request', 'tools/list', undefined, true], ['notification', 'notifications/progress', undefined, true], ['request', 'tools/call', 'get-env', true]]);
  assert.equal(calls(parse([{ jsonrpc: '2.0', id: 1, method: 'ping' }]))[0]?.batch, true);
});

test('tools/call without a string name parses with tool undefined (the stage refuses it)', () => {
  for (const params of [undefined, {}, { name: 42 }, { name: null }, ['echo']]) {
    const [c] = calls(parse({ jsonrpc: '2.0', id: 1, method: 'tools/call', ...(params === undefined ? {} : { params }) }));
    assert.equal(c?.tool, undefined, JSON.stringify(params));
    assert.equal(c?.method, 'tools/call');
  }
});

test('escaped JSON is read as the upstream reads it (no textual matching)', () => {
  const [c] = calls(parse('{"jsonrpc":"2.0","id":1,"method":"tools\\/call","params":{"name":"get\\u002denv","name2":1}}'));
  assert.equal(c?.method, 'tools/call');
  assert.equal(c?.tool, 'get-env');
  // Duplicate keys: JSON.parse keeps the last, as the MCP SDK server (JSON.parse too) does.
  const [d] = calls(parse('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","name":"get-env"}}'));
  assert.equal(d?.tool, 'get-env');
});

test('malformed JSON: 400 with the JSON-RPC parse error shape', () => {
  for (const body of ['', '{', '{"jsonrpc":"2.0",}', 'null x', "{'a':1}", 'NaN', '\u0000']) refused(parse(body), 400, -32700, /^Parse error/);
});

test('a UTF-8 BOM is skipped as body readers do', () => {
  assert.equal(calls(parseJsonRpc(Buffer.from('\ufeff{"jsonrpc":"2.0","id":1,"method":"ping"}'), JSON_CT))[0]?.method, 'ping');
});

test('invalid requests: 400 with -32600 naming the problem', () => {
  const cases: [unknown, RegExp][] = [
    [[], /empty batch/],
    [1, /not an object/],
    ['"x"', /not an object/],
    [null, /not an object/],
    [{ id: 1, method: 'ping' }, /jsonrpc must be "2.0"/],
    [{ jsonrpc: '1.0', id: 1, method: 'ping' }, /jsonrpc/],
    [{ jsonrpc: '2.0', id: 1, method: 5 }, /method must be/],
    [{ jsonrpc: '2.0', id: 1, method: '' }, /method must be/],
    [{ jsonrpc: '2.0', id: {}, method: 'ping' }, /id must be/],
    [{ jsonrpc: '2.0', id: [1], method: 'ping' }, /id must be/],
    [{ jsonrpc: '2.0', id: true, method: 'ping' }, /id must be/],
    [{ jsonrpc: '2.0', id: 1, method: 'ping', params: 'x' }, /params must be/],
    [{ jsonrpc: '2.0', id: 1 }, /needs a method/],
    [{ jsonrpc: '2.0', id: 1, result: 1, error: {} }, /exactly one/],
    [{ jsonrpc: '2.0', result: 1 }, /needs an id/],
    [[{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x' } }, 7], /message 2 of the batch: a message is not an object/],
    [[{ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { jsonrpc: '2.0', id: 1, method: 'tools/list' }], /message 1 of the batch reuses the request id 1/],
    [[{ jsonrpc: '2.0', id: 'a', method: 'ping' }, { jsonrpc: '2.0', id: 'a', method: 'tools/list' }], /reuses the request id "a"/],
  ];
  for (const [body, text] of cases) refused(parse(body), 400, -32600, text);
});

test('huge: a batch over MAX_BATCH is refused; a large argument is hashed, not kept', () => {
  const batch = Array.from({ length: MAX_BATCH + 1 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'ping' }));
  refused(parse(batch), 400, -32600, new RegExp(`batch of ${MAX_BATCH + 1} messages`));
  assert.equal(calls(parse(batch.slice(0, MAX_BATCH))).length, MAX_BATCH);
  const big = 'x'.repeat(2_000_000);
  const [c] = calls(parse({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { big } } }));
  assert.equal(c?.argsBytes, big.length + '{"big":""}'.length);
  assert.ok(!JSON.stringify(c).includes('xxxx'));
});

test('deeply nested arguments do not crash: parsed, hash left out', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const [c] = calls(parse(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"a":${deep}}}}`));
  assert.equal(c?.tool, 'echo');
  assert.equal(c?.argsSha256, undefined);
  assert.equal(canonicalJson(JSON.parse('['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))), '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH));
});

test('non-JSON content types are refused with 415, so no call bypasses policy in another media type', () => {
  const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get-env' } };
  for (const ct of [undefined, '', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain; a=application/json', 'application/json, text/plain', 'application/jsonx', 'application/vnd.api+json', 'application/json; charset=utf-16le', 'application/json; charset="iso-8859-1"']) {
    // (parseJsonRpc directly: the helper's default would replace an undefined header.)
    refused(parseJsonRpc(Buffer.from(JSON.stringify(body)), ct), 415, -32600, /Content-Type must be application\/json/, String(ct));
  }
  for (const ct of ['application/json', 'Application/JSON', 'application/json; charset=utf-8', 'application/json;charset="UTF-8"', ' application/json ; foo=bar']) {
    assert.equal(calls(parse(body, ct))[0]?.tool, 'get-env', ct);
  }
});

test('canonicalJson sorts keys by UTF-16 code units and is key-order independent', () => {
  assert.equal(canonicalJson({ b: [1, { d: null, c: 'é' }], a: 1.5, '\u00e9': 0, A: true }), '{"A":true,"a":1.5,"b":[1,{"c":"é","d":null}],"é":0}');
  assert.equal(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fc from 'fast-check';
import { upstreamResponseHead, type BodyRewriter, type Identity, type RequestContext } from '../../../sidecar/context.ts';
import { createToolsListFilter, type ToolsListFilterOptions } from '../../../sidecar/policy/tools-list-filter.ts';
import { compilePolicy } from '../../../sidecar/policy/tools.ts';
import { parseToolGroups } from '../../../sidecar/policy/groups.ts';

const policy = compilePolicy({ allowTools: ['echo', 'get-sum'], denyTools: [], sections: { 'tools.groups': parseToolGroups({ 'mcp.power_users': { allow: ['*'] } }, 'g').value } });
const key: Identity = { kind: 'apikey', id: 'key:1', groups: [], scopes: [] };
const power: Identity = { kind: 'jwt', id: 'jwt:1', groups: ['mcp.power_users'], scopes: [] };

const tool = (name: string, description = `the ${name} tool: é ✓ 🔧`) => ({ name, description, inputSchema: { type: 'object', properties: {} } });
const TOOLS = [tool('echo'), tool('get-env'), tool('get-sum'), tool('trigger-long-running-operation')];
const listResult = (id: number | string, tools: unknown[] = TOOLS) => ({ jsonrpc: '2.0', id, result: { tools, nextCursor: 'c1' } });

async function run(opts: ToolsListFilterOptions, contentType: string, chunks: Buffer[], identity: Identity = key): Promise<{ body: Buffer; headers: Record<string, string | string[]> }> {
  const head = upstreamResponseHead(200, { 'content-type': contentType, 'content-length': '123' });
  const r = createToolsListFilter(policy, identity, opts)(head, {} as RequestContext) as BodyRewriter;
  assert.equal(typeof r?.stream, 'function');
  const t = r.stream();
  const out: Buffer[] = [];
  t.on('data', (b: Buffer) => out.push(b));
  const ended = once(t, 'end');
  for (const c of chunks) t.write(c);
  t.end();
  await ended;
  const body = Buffer.concat(out);
  assert.ok(r.whole(Buffer.concat(chunks)).equals(body), 'whole() gives the same bytes as the streamed form');
  return { body, headers: head.headers };
}

function cut(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < buf.length))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  return parts;
}

// A Streamable HTTP SSE answer to a batch [tools/list id 2, tools/call id 3], with the framing a
// server may use: priming event, comments, CRLF and CR line endings, a multi-line data field, a
// tools-shaped result under another id, and bytes that are not valid UTF-8.
const OTHER = [
  'id: prime-0\nretry: 1000\ndata: \n\n',
  ': keep-alive comment\r\n\r\n',
  `event: message\r\nid: e-1\r\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progress: 1, message: 'é✓' } })}\r\n\r\n`,
  `event: message\nid: e-2\ndata: ${JSON.stringify(listResult(3))}\n\n`,
  'event: message\rdata: {"jsonrpc":"2.0",\rdata: "id":4,"result":{}}\r\r',
];
const INVALID_UTF8 = Buffer.concat([Buffer.from('event: message\ndata: {"x":"'), Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from('"}\n\n')]);
const LIST_EVENT = `event: message\r\nid: e-3\r\ndata: ${JSON.stringify(listResult(2))}\r\n\r\n`;
const STREAM = Buffer.concat([...OTHER.slice(0, 3).map((s) => Buffer.from(s)), INVALID_UTF8, Buffer.from(LIST_EVENT), ...OTHER.slice(3).map((s) => Buffer.from(s))]);

test('SSE, ids mode: only the tools/list response is rewritten; every other event is byte-identical', async () => {
  const { body } = await run({ ids: [2] }, 'text/event-stream', [STREAM]);
  const expectedList = `event: message\r\nid: e-3\r\ndata: ${JSON.stringify(listResult(2, [tool('echo'), tool('get-sum')]))}\r\n\r\n`;
  const expected = Buffer.concat([...OTHER.slice(0, 3).map((s) => Buffer.from(s)), INVALID_UTF8, Buffer.from(expectedList), ...OTHER.slice(3).map((s) => Buffer.from(s))]);
  assert.deepEqual(body, expected);
});

test('property: SSE output for every chunking equals the output for the whole stream', async () => {
  const whole = (await run({ ids: [2] }, 'text/event-stream', [STREAM])).body;
  const wholeShape = (await run({}, 'text/event-stream', [STREAM])).body;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(STREAM.length), { maxLength: 40 }), fc.boolean(), async (cuts, shape) => {
      const { body } = await run(shape ? {} : { ids: [2] }, 'text/event-stream', cut(STREAM, cuts));
      assert.deepEqual(body, shape ? wholeShape : whole);
    }),
    { numRuns: 200 },
  );
  // One byte at a time, the worst case.
  assert.deepEqual((await run({ ids: [2] }, 'text/event-stream', cut(STREAM, [...Array(STREAM.length).keys()]))).body, whole);
});

test('SSE, shape mode (GET streams): any response with result.tools is filtered, the rest untouched', async () => {
  const endpoint = 'event: endpoint\ndata: /message?sessionId=abc\n\n';
  const input = Buffer.from(endpoint + `event: message\ndata: ${JSON.stringify(listResult(7))}\n\n` + `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 8, result: { content: [{ type: 'text', text: 'tools' }] } })}\n\n`);
  const text = (await run({}, 'text/event-stream', [input])).body.toString('utf8');
  assert.ok(text.startsWith(endpoint));
  const datas = text.split('\n').filter((l) => l.startsWith('data: {')).map((l) => JSON.parse(l.slice(6)));
  assert.deepEqual(datas[0].result.tools.map((t: { name: string }) => t.name), ['echo', 'get-sum']);
  assert.deepEqual(datas[0].result.nextCursor, 'c1');
  assert.deepEqual(datas[1], { jsonrpc: '2.0', id: 8, result: { content: [{ type: 'text', text: 'tools' }] } });
});

test('SSE: tools/list filtering follows the identity (a power user sees everything: bytes untouched)', async () => {
  assert.deepEqual((await run({ ids: [2] }, 'text/event-stream', [STREAM], power)).body, STREAM);
});

test('SSE, ids mode: after the awaited response the stream passes through unparsed', async () => {
  const later = `event: message\ndata: ${JSON.stringify(listResult(2))}\n\n`;
  const input = Buffer.from(`data: ${JSON.stringify(listResult(2))}\n\n${later}`);
  const text = (await run({ ids: [2] }, 'text/event-stream', [input])).body.toString();
  assert.ok(text.endsWith(later), 'a second answer with the same id is not looked at');
  assert.ok(!text.slice(0, text.length - later.length).includes('get-env'));
});

test('SSE: entries that are not tools (no string name) are dropped; an unterminated last event is filtered too', async () => {
  const tail = `data: ${JSON.stringify(listResult(2, [tool('echo'), { description: 'nameless' }, 'str', tool('get-env')]))}`;
  const text = (await run({ ids: [2] }, 'text/event-stream', [Buffer.from(tail)])).body.toString();
  assert.deepEqual(JSON.parse(text.slice(6)).result.tools, [tool('echo')]);
});

test('SSE: an event larger than the bound errors instead of passing unfiltered', async () => {
  const head = upstreamResponseHead(200, { 'content-type': 'text/event-stream' });
  const r = createToolsListFilter(policy, key, { ids: [1], maxBufferBytes: 1024 })(head, {} as RequestContext) as BodyRewriter;
  assert.throws(() => r.whole(Buffer.from(`data: ${'x'.repeat(2048)}`)), { code: 'ERR_UPSTREAM_UNAVAILABLE' });
  const t = r.stream();
  const err = once(t, 'error');
  t.resume();
  t.write(Buffer.from(`data: ${'x'.repeat(2048)}`));
  const [e] = await err;
  assert.equal((e as { code: string }).code, 'ERR_UPSTREAM_UNAVAILABLE');
});

test('JSON, single and batch: matching ids rewritten, others kept; chunking does not matter', async () => {
  const single = Buffer.from(JSON.stringify(listResult('a')));
  const out = JSON.parse((await run({ ids: ['a'] }, 'application/json; charset=utf-8', cut(single, [5, 100, 101]))).body.toString());
  assert.deepEqual(out.result.tools.map((t: { name: string }) => t.name), ['echo', 'get-sum']);
  const batch = Buffer.from(JSON.stringify([listResult(1), listResult(2), { jsonrpc: '2.0', id: 3, error: { code: -1, message: 'x' } }]));
  const b = JSON.parse((await run({ ids: [2] }, 'application/json', [batch])).body.toString());
  assert.equal(b[0].result.tools.length, 4, 'id 1 was not a tools/list request of this POST');
  assert.equal(b[1].result.tools.length, 2);
  assert.deepEqual(b[2], { jsonrpc: '2.0', id: 3, error: { code: -1, message: 'x' } });
  // Ids are typed: the string "2" is not the number 2.
  assert.deepEqual((await run({ ids: ['2'] }, 'application/json', [batch])).body, batch);
});

test('JSON: nothing to remove leaves the bytes as they were; unparseable becomes an error for the tools/list id', async () => {
  const raw = Buffer.from(`{ "jsonrpc": "2.0", "id": 1, "result": { "tools": [ ${JSON.stringify(tool('echo'))} ] } }`);
  assert.deepEqual((await run({ ids: [1] }, 'application/json', [raw])).body, raw);
  const bad = JSON.parse((await run({ ids: [1] }, 'application/json', [Buffer.from('{"jsonrpc":"2.0","id":1,"result":{"tools":[NaN]}}')])).body.toString());
  assert.equal(bad.id, 1);
  assert.equal(bad.error.code, -32603);
});

test('other content types pass untouched; compressed bodies are refused; GET JSON is not buffered', () => {
  const f = createToolsListFilter(policy, key, { ids: [1] });
  const head = (h: Record<string, string>) => upstreamResponseHead(200, { ...h, 'content-length': '5' });
  const plain = head({ 'content-type': 'text/plain' });
  assert.equal(f(plain, {} as RequestContext), undefined);
  assert.equal(plain.headers['content-length'], '5');
  const gz = f(head({ 'content-type': 'application/json', 'content-encoding': 'gzip' }), {} as RequestContext);
  assert.equal((gz as { status: number }).status, 502);
  assert.equal(createToolsListFilter(policy, key)(head({ 'content-type': 'application/json' }), {} as RequestContext), undefined);
  assert.throws(() => createToolsListFilter(policy, key, { maxBufferBytes: 0 }), /maxBufferBytes must be a whole number >= 1; got 0/);
});

test('2026-07-28 cacheable lists: ttlMs and nextCursor kept; a "public" list becomes "private" (it is the caller view), JSON and SSE', async () => {
  const cacheable = (id: number, tools: unknown[], cacheScope: string) => ({ jsonrpc: '2.0', id, result: { ttlMs: 60000, cacheScope, tools, nextCursor: 'c1' } });
  for (const ct of ['application/json', 'text/event-stream']) {
    const frame = (m: unknown): Buffer => Buffer.from(ct === 'application/json' ? JSON.stringify(m) : `event: message\ndata: ${JSON.stringify(m)}\n\n`);
    const parse = (b: Buffer): { result: { ttlMs: number; cacheScope: string; nextCursor: string; tools: { name: string }[] } } =>
      JSON.parse(ct === 'application/json' ? b.toString() : b.toString().replace(/^event: message\ndata: /, '').trim()) as never;
    // Filtered and public: private now.
    const a = parse((await run({ ids: [1] }, ct, [frame(cacheable(1, TOOLS, 'public'))])).body);
    assert.deepEqual(a.result.tools.map((t) => t.name), ['echo', 'get-sum']);
    assert.deepEqual([a.result.ttlMs, a.result.cacheScope, a.result.nextCursor], [60000, 'private', 'c1']);
    // Nothing to hide for this caller, still public upstream: private too (another caller may see less).
    const b = parse((await run({ ids: [1] }, ct, [frame(cacheable(1, TOOLS, 'public'))], power)).body);
    assert.equal(b.result.tools.length, TOOLS.length);
    assert.equal(b.result.cacheScope, 'private');
    // Already private and nothing hidden: the bytes pass untouched.
    const c = frame(cacheable(1, [tool('echo')], 'private'));
    assert.ok((await run({ ids: [1] }, ct, [c])).body.equals(c));
  }
});

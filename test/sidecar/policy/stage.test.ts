import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Identity, Reply, RequestContext } from '../../../sidecar/context.ts';
import { parseToolGroups } from '../../../sidecar/policy/groups.ts';
import { createToolPolicyStage, type ToolPolicyDeps } from '../../../sidecar/policy/stage.ts';
import { createMessageStage } from '../../../sidecar/mcp/stage.ts';
import type { AuditRecord } from '../../../sidecar/policy/audit.ts';
import { makeContext } from '../../helpers/context.ts';

const SECRET = 'sk-live-SEEDED-SECRET-4f1c9a';
const key: Identity = { kind: 'apikey', id: 'key:0123456789ab', groups: [], scopes: [] };
const alice: Identity = { kind: 'jwt', id: 'jwt:aa', subject: 'alice', groups: ['mcp.users'], scopes: [] };
const STREAMABLE = 'application/json, text/event-stream';

function config(allowTools: string[], denyTools: string[] = [], groups: Record<string, { allow?: string[]; deny?: string[] }> = {}) {
  return { allowTools, denyTools, sections: { 'tools.groups': parseToolGroups(groups, 'tools.groups').value } };
}

function ctxFor(method: string, body: unknown, opts: { accept?: string; contentType?: string; identity?: Identity } = {}): RequestContext {
  const ctx = makeContext({
    method,
    ip: '10.1.2.3',
    identity: opts.identity ?? key,
    headers: { 'content-type': opts.contentType ?? 'application/json', ...(opts.accept === undefined ? {} : { accept: opts.accept }) },
    body: body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  });
  return { ...ctx, startedAt: performance.now() };
}

function harness(cfg = config(['echo', 'get-sum'], ['get-env'])) {
  const audits: AuditRecord[] = [];
  const toolCalls: [string, string][] = [];
  const deps: ToolPolicyDeps = { onAudit: (r) => audits.push(r), onToolCall: (t, d) => toolCalls.push([t, d]), now: () => Date.UTC(2026, 0, 2, 3, 4, 5) };
  const stage = createToolPolicyStage(cfg, deps);
  // The pipeline reads the body once in the message stage; policy judges what it read.
  const message = createMessageStage({ onAudit: deps.onAudit, now: deps.now });
  const run = (ctx: RequestContext, status: number): Reply | undefined => {
    const r = (message(ctx) ?? stage(ctx)) as Reply | undefined;
    for (const fn of ctx.onDone) fn({ status: r?.status ?? status, aborted: false });
    return r;
  };
  return { audits, toolCalls, run };
}

const call = (id: number | string | undefined, name: unknown, args: unknown = { token: SECRET }) => ({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), method: 'tools/call', params: { name, arguments: args } });

test('a forbidden tools/call over Streamable HTTP: 200 JSON-RPC error naming the tool; audited and counted', () => {
  const h = harness();
  const ctx = ctxFor('POST', call(7, 'get-env'), { accept: STREAMABLE });
  const r = h.run(ctx, 0);
  assert.equal(r?.status, 200);
  assert.equal(r?.code, 'ERR_TOOL_FORBIDDEN');
  assert.deepEqual(r?.body, { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Tool "get-env" is not permitted', data: { code: 'ERR_TOOL_FORBIDDEN' } } });
  assert.deepEqual(h.toolCalls, [['get-env', 'deny']]);
  assert.equal(h.audits.length, 1);
  const a = h.audits[0]!;
  assert.deepEqual({ ...a, durationMs: 0 }, {
    startTime: '2026-01-02T03:04:05.000Z', identity: 'key:0123456789ab', identityKind: 'apikey', clientIp: '10.1.2.3', method: 'tools/call', rpcId: 7, tool: 'get-env',
    era: 'legacy', decision: 'deny', reason: 'ERR_TOOL_FORBIDDEN', status: 200, durationMs: 0,
    argsSha256: createHash('sha256').update(JSON.stringify({ token: SECRET })).digest('hex'), argsBytes: JSON.stringify({ token: SECRET }).length,
  });
  assert.ok(a.durationMs >= 0);
  assert.ok(!JSON.stringify(h.audits).includes(SECRET));
  assert.ok(!JSON.stringify(h.audits).includes('SEEDED'));
});

test('the older SSE transport (no text/event-stream in Accept): 403 with the same JSON-RPC body', () => {
  const h = harness();
  const ctx = { ...ctxFor('POST', call('x', 'write_file')), search: '?sessionId=abc' };
  const r = h.run(ctx, 0);
  assert.equal(r?.status, 403);
  assert.match(JSON.stringify(r?.body), /Tool \\"write_file\\" is not permitted/);
  assert.equal(h.audits[0]?.status, 403);
});

test('an allowed call goes on untouched, counted and audited with the final status', () => {
  const h = harness();
  const ctx = ctxFor('POST', call(1, 'echo'), { accept: STREAMABLE });
  assert.equal(h.run(ctx, 200), undefined);
  assert.deepEqual(h.toolCalls, [['echo', 'allow']]);
  assert.equal(ctx.responseStages.length, 0, 'no tools/list in this POST: nothing to filter');
  assert.equal(ctx.rpc?.length, 1);
  assert.equal(h.audits[0]?.decision, 'allow');
  assert.equal(h.audits[0]?.status, 200);
  assert.ok(!JSON.stringify(h.audits).includes(SECRET));
});

test('a batch with one forbidden call is refused whole: one error per request id, none for notifications', () => {
  const h = harness();
  const ctx = ctxFor('POST', [call(1, 'echo'), { jsonrpc: '2.0', method: 'notifications/cancelled', params: {} }, call(2, 'get-env'), { jsonrpc: '2.0', id: 3, method: 'tools/list' }, { jsonrpc: '2.0', id: 99, result: {} }], { accept: STREAMABLE });
  const r = h.run(ctx, 0);
  assert.equal(r?.status, 200);
  const body = r?.body as { id: number; error: { message: string } }[];
  assert.deepEqual(body.map((e) => [e.id, e.error.message]), [
    [1, 'Batch refused: Tool "get-env" is not permitted'],
    [2, 'Tool "get-env" is not permitted'],
    [3, 'Batch refused: Tool "get-env" is not permitted'],
  ]);
  assert.deepEqual(h.toolCalls, [['echo', 'deny'], ['get-env', 'deny']], 'echo was not forwarded either');
  // Four audit lines (the client's response to a server request is not a request), all denied.
  assert.deepEqual(h.audits.map((a) => [a.method, a.decision]), [['tools/call', 'deny'], ['notifications/cancelled', 'deny'], ['tools/call', 'deny'], ['tools/list', 'deny']]);
});

test('a batch of one answers with an array', () => {
  const r = harness().run(ctxFor('POST', [call(5, 'get-env')], { accept: STREAMABLE }), 0);
  assert.ok(Array.isArray(r?.body));
});

test('tools/call without a string name is refused (it cannot be judged)', () => {
  const h = harness(config([]));
  const r = h.run(ctxFor('POST', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: ['echo'] } }, { accept: STREAMABLE }), 0);
  assert.match((r?.body as { error: { message: string } }).error.message, /tools\/call needs params.name, a string/);
  assert.deepEqual(h.toolCalls, [['invalid', 'deny']]);
});

test('groups: alice (mcp.users) may call read_file but not write_file', () => {
  const h = harness(config([], [], { 'mcp.users': { allow: ['search_docs', 'read_file'] }, 'mcp.power_users': { allow: ['search_docs', 'read_file', 'write_file'] } }));
  assert.equal(h.run(ctxFor('POST', call(1, 'read_file'), { identity: alice, accept: STREAMABLE }), 200), undefined);
  assert.equal(h.run(ctxFor('POST', call(2, 'write_file'), { identity: alice, accept: STREAMABLE }), 0)?.status, 200);
  assert.deepEqual(h.audits.map((a) => [a.identity, a.tool, a.decision]), [['alice', 'read_file', 'allow'], ['alice', 'write_file', 'deny']]);
});

test('tools/list adds the ids-mode filter; GET adds the shape filter; an open policy adds none', () => {
  const h = harness();
  const post = ctxFor('POST', { jsonrpc: '2.0', id: 4, method: 'tools/list' }, { accept: STREAMABLE });
  h.run(post, 200);
  assert.equal(post.responseStages.length, 1);
  const get = ctxFor('GET', undefined);
  h.run(get, 200);
  assert.equal(get.responseStages.length, 1);
  assert.equal(h.audits.length, 1, 'GET carries no JSON-RPC request: no audit line');
  const open = harness(config([]));
  const post2 = ctxFor('POST', { jsonrpc: '2.0', id: 4, method: 'tools/list' });
  open.run(post2, 200);
  const get2 = ctxFor('GET', undefined);
  open.run(get2, 200);
  assert.equal(post2.responseStages.length + get2.responseStages.length, 0);
  const del = ctxFor('DELETE', undefined);
  assert.equal(h.run(del, 200), undefined);
  assert.equal(del.responseStages.length, 0);
});

test('bad bodies: 415 for non-JSON (a text/plain tools/call cannot slip through), 400 for malformed; audited with method null', () => {
  const h = harness();
  const r = h.run(ctxFor('POST', call(1, 'get-env'), { contentType: 'text/plain' }), 0);
  assert.equal(r?.status, 415);
  assert.equal(r?.close, true);
  const body = undefined;
  const r2 = h.run(ctxFor('POST', body), 0);
  assert.equal(r2?.status, 400);
  assert.equal((r2?.body as { error: { code: number } }).error.code, -32700);
  assert.deepEqual(h.audits.map((a) => [a.method, a.decision, a.status]), [[null, 'deny', 415], [null, 'deny', 400]]);
  assert.deepEqual(h.toolCalls, []);
  // No rule restricts anything: nothing to smuggle past, plain proxy behaviour, no audit line.
  const open = harness(config([]));
  assert.equal(open.run(ctxFor('POST', 'plain text', { contentType: 'text/plain' }), 200), undefined);
  assert.equal(open.run(ctxFor('POST', '{"ok":1}'), 200), undefined);
  assert.equal(open.audits.length, 0);
});

test('metric labels stay bounded under a flood of random tool names; configured names keep theirs', () => {
  const h = harness(config([], ['get-env']));
  for (let i = 0; i < 300; i++) h.run(ctxFor('POST', call(i, `tool_${i}`), { accept: STREAMABLE }), 200);
  h.run(ctxFor('POST', call('z', 'get-env'), { accept: STREAMABLE }), 0);
  h.run(ctxFor('POST', call('y', 'bad name with spaces'), { accept: STREAMABLE }), 200);
  const labels = new Set(h.toolCalls.map(([t]) => t));
  assert.equal(labels.size, 200 + 2, 'first 200 names, then other; plus get-env');
  assert.ok(labels.has('other') && labels.has('get-env') && labels.has('tool_199') && !labels.has('tool_200'));
  assert.deepEqual(h.toolCalls.at(-1), ['other', 'allow']);
});

/**
 * The stdio bridge on its own (sidecar/stdio/): its configuration, the pure parts (session table,
 * subscription counts, progress-token split, advertised capabilities, FIFO checks), and, in front
 * of a real `server-everything stdio` behind the webhook's wrapper, the fan-out of the server's own
 * notifications and the HTTP edge's refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { ConfigError } from '../../sidecar/errors.ts';
import { loadBridgeConfig } from '../../sidecar/stdio/config.ts';
import { BRIDGE_SETTINGS } from '../../sidecar/stdio/settings.ts';
import { advertisedCapabilities, splitProgressToken } from '../../sidecar/stdio/downstream.ts';
import { tryOpenFifos } from '../../sidecar/stdio/fifo.ts';
import { createSessionTable } from '../../sidecar/stdio/sessions.ts';
import { createSubscriptions } from '../../sidecar/stdio/subscriptions.ts';
import { startBridge, type RunningBridge } from '../helpers/bridge.ts';
import { connectV2 } from '../helpers/v2-client.ts';
import { until } from '../helpers/wait.ts';

describe('bridge configuration', () => {
  test('defaults, and every bad variable reported at once with what was expected', () => {
    const c = loadBridgeConfig({});
    // Each unset variable takes its table default (the values themselves are the table's to say).
    assert.deepEqual(c, Object.fromEntries(Object.entries(BRIDGE_SETTINGS).map(([key, s]) => [key, s.default])));
    assert.ok(Object.isFrozen(c));
    try {
      loadBridgeConfig({ MCP_STDIO_DIR: 'relative/dir', MCP_STDIO_LISTEN_PORT: '70000', MCP_STDIO_LOG_LEVEL: 'loud', MCP_STDIO_MAX_SESSIONS: '0' });
      assert.fail('accepted bad variables');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => `${i.setting}: got ${i.value}; expected ${i.expected}`),
        [
          'MCP_STDIO_DIR: got "relative/dir"; expected an absolute directory path',
          'MCP_STDIO_LISTEN_PORT: got "70000"; expected a TCP port from 0 to 65535 (0 picks a free one)',
          'MCP_STDIO_MAX_SESSIONS: got "0"; expected a whole number from 1 to 100000 (sessions)',
          'MCP_STDIO_LOG_LEVEL: got "loud"; expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent"',
        ],
      );
    }
    assert.throws(() => loadBridgeConfig({ MCP_STDIO_LISTEN_PORT: '9000', MCP_STDIO_ADMIN_PORT: '9000' }), /MCP_STDIO_ADMIN_PORT: got 9000; expected a port other than MCP_STDIO_LISTEN_PORT \(9000\)/);
  });

  // The sidecar's rules (sidecar/config.ts, sidecar/unknown-settings.ts), applied to MCP_STDIO_*.
  const issuesOf = (env: Record<string, string>): string[] => {
    try {
      loadBridgeConfig(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.issues.map((i) => `${i.setting}: got ${i.value}; expected ${i.expected}`);
    }
    return [];
  };

  test('a variable that is set but empty is refused, never read as unset', () => {
    assert.deepEqual(issuesOf({ MCP_STDIO_LISTEN_PORT: '', MCP_STDIO_LOG_LEVEL: '  ' }), [
      'MCP_STDIO_LISTEN_PORT: got empty; expected a TCP port from 0 to 65535 (0 picks a free one) (it is set but empty: give it a value, or remove it to use the default ("9902"))',
      'MCP_STDIO_LOG_LEVEL: got empty; expected one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (it is set but empty: give it a value, or remove it to use the default ("info"))',
    ]);
  });

  test('an unknown MCP_STDIO_ variable (any letter case) is refused with the nearest name, its value unshown; Service links are not settings', () => {
    assert.deepEqual(issuesOf({ MCP_STDIO_MAX_SESSION: '5', mcp_stdio_dir: '/tmp/x', MCP_STDIO_ZZZ_QQQ_WWW: 'secret-looking' }), [
      'MCP_STDIO_MAX_SESSION: got set; expected no such variable: a stdio bridge setting (did you mean MCP_STDIO_MAX_SESSIONS?)',
      'mcp_stdio_dir: got set; expected no such variable: a stdio bridge setting (did you mean MCP_STDIO_DIR?)',
      'MCP_STDIO_ZZZ_QQQ_WWW: got set; expected no such variable: a stdio bridge setting (see the settings table in the README)',
    ]);
    // What the kubelet adds to every container for a Service named mcp-stdio (enableServiceLinks).
    assert.deepEqual(issuesOf({ MCP_STDIO_SERVICE_HOST: '10.0.0.7', MCP_STDIO_SERVICE_PORT: '80', MCP_STDIO_PORT: 'tcp://10.0.0.7:80', MCP_STDIO_PORT_80_TCP: 'tcp://10.0.0.7:80', MCP_STDIO_PORT_80_TCP_ADDR: '10.0.0.7', MCP_STDIO_PORT_80_TCP_PORT: '80', MCP_STDIO_PORT_80_TCP_PROTO: 'tcp', MCP_AUTH_KEY: 'the sidecar\'s, not the bridge\'s' }), []);
    assert.deepEqual(issuesOf({ MCP_STDIO_PORT: '9902' }), ['MCP_STDIO_PORT: got set; expected no such variable: a stdio bridge setting (did you mean MCP_STDIO_DIR?)'], 'a port number is not what a Service link holds');
  });
});

describe('bridge parts', () => {
  test('session table: at the cap the least recently used idle session makes room; with none idle, none is made; idle ones expire', async () => {
    let now = 0;
    const closed: string[] = [];
    const t = createSessionTable<{ id: string; close(): Promise<void> }>({ max: 2, idleMs: 1000, now: () => now, onClosed: (id, why) => void closed.push(`${id}:${why}`) });
    const s = (id: string) => ({ id, close: async () => undefined });
    t.makeRoom()!.fill(s('a'));
    now = 10;
    t.makeRoom()!.fill(s('b'));
    now = 20;
    const leaveB = t.enter('b');
    leaveB();
    const room = t.makeRoom();
    assert.ok(room, 'a is the least recently used idle session');
    assert.deepEqual(closed, ['a:evicted']);
    room.fill(s('c'));
    const leaveB2 = t.enter('b');
    const leaveC = t.enter('c');
    assert.equal(t.makeRoom(), undefined, 'both open sessions are busy');
    assert.equal(t.size, 2);
    leaveB2();
    leaveC();
    now = 2000;
    t.sweep();
    assert.deepEqual(closed, ['a:evicted', 'b:idle', 'c:idle']);
    assert.equal(t.size, 0);
  });

  test('session table: a place made for a session still initializing counts toward the cap; a failed initialize gives it back', () => {
    const closed: string[] = [];
    const t = createSessionTable<{ id: string; close(): Promise<void> }>({ max: 2, idleMs: 1000, now: () => 0, onClosed: (id, why) => void closed.push(`${id}:${why}`) });
    const s = (id: string) => ({ id, close: async () => undefined });
    // Two initializes under way: neither is a session yet, so there is none idle to close for a third.
    const first = t.makeRoom();
    const second = t.makeRoom();
    assert.ok(first && second);
    assert.ok(!t.makeRoom(), 'both places are taken by sessions still initializing');
    second.release();
    second.release();
    const third = t.makeRoom();
    assert.ok(third, "the failed initialize's place is free again (released once, however often it is called)");
    first.fill(s('a'));
    third.fill(s('b'));
    third.release();
    assert.equal(t.size, 2, 'a release after fill changes nothing');
    const fourth = t.makeRoom();
    assert.ok(fourth, 'full of idle sessions: the least recently used one is closed for the next');
    assert.deepEqual(closed, ['a:evicted']);
    assert.equal(t.size, 1);
    fourth.release();
  });

  test('subscriptions: one upstream subscribe per URI however many hold it; unsubscribe with the last; counts from an earlier process are void', async () => {
    const calls: string[] = [];
    const upstream = { generation: 1 as number | undefined, subscribe: async (u: string) => void calls.push(`+${u}`), unsubscribe: async (u: string) => void calls.push(`-${u}`) };
    const subs = createSubscriptions(upstream, () => undefined);
    const r1 = await subs.acquire('x');
    const r2 = await subs.acquire('x');
    assert.deepEqual(calls, ['+x']);
    r1();
    r1();
    assert.deepEqual(calls, ['+x'], 'a release is idempotent; one holder left');
    r2();
    assert.deepEqual(calls, ['+x', '-x']);
    const old = await subs.acquire('y');
    subs.reset();
    upstream.generation = 2;
    old();
    assert.deepEqual(calls, ['+x', '-x', '+y'], 'a reference from before the restart releases nothing');
    const failing = createSubscriptions({ generation: 1, subscribe: async () => Promise.reject(new Error('no')), unsubscribe: async () => undefined }, () => undefined);
    await assert.rejects(failing.acquire('z'), /no/);
    assert.deepEqual(failing.uris, []);
  });

  test("progress: the client's token is taken out (the bridge's Client mints its own) and the rest of _meta kept", () => {
    assert.deepEqual(splitProgressToken({ name: 'x', _meta: { progressToken: 7, traceparent: 't' } }), { params: { name: 'x', _meta: { traceparent: 't' } }, progressToken: 7 });
    assert.deepEqual(splitProgressToken({ name: 'x', _meta: { progressToken: 'p' } }), { params: { name: 'x' }, progressToken: 'p' });
    assert.deepEqual(splitProgressToken({ name: 'x' }), { params: { name: 'x' }, progressToken: undefined });
    assert.deepEqual(splitProgressToken(undefined), { params: undefined, progressToken: undefined });
  });

  test('advertised capabilities: what the bridge relays; tasks and experimental left out', () => {
    assert.deepEqual(advertisedCapabilities({ tools: { listChanged: true }, resources: { subscribe: true }, logging: {}, tasks: { list: {} }, experimental: { x: {} } } as never), { tools: { listChanged: true }, resources: { subscribe: true }, logging: {} });
  });

  test('FIFOs: missing, not a FIFO, and no reader yet are told apart; none blocks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-fifo-'));
    try {
      assert.equal(tryOpenFifos(dir), 'missing');
      writeFileSync(join(dir, 'in'), '');
      writeFileSync(join(dir, 'out'), '');
      assert.equal(tryOpenFifos(dir), 'not-fifo');
      rmSync(join(dir, 'in'));
      rmSync(join(dir, 'out'));
      assert.equal(spawnSync('mkfifo', [join(dir, 'in'), join(dir, 'out')]).status, 0);
      assert.equal(tryOpenFifos(dir), 'no-reader');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function v1(url: string): Promise<ClientV1> {
  const c = new ClientV1({ name: 'bridge-test', version: '1' });
  await c.connect(new TransportV1(new URL(url)));
  return c;
}

describe('bridge in front of server-everything stdio', () => {
  let b: RunningBridge;
  const clients: Array<{ close(): Promise<unknown> }> = [];
  before(async () => {
    b = await startBridge({ env: { MCP_STDIO_MAX_SESSIONS: '6' } });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await b?.close();
  });

  test('resource updates reach only the subscribers of that URI, in both eras; log messages follow each session\'s own level', async () => {
    const { resources } = await (async () => {
      const c = await v1(b.url);
      clients.push(c);
      return c.listResources();
    })();
    const [x, y, z] = resources.map((r) => r.uri).filter((u) => u.startsWith('demo://resource/static/document/'));
    assert.ok(x && y && z, 'three static resources');
    const a = await v1(b.url);
    const bb = await v1(b.url);
    const d = await v1(b.url);
    clients.push(a, bb, d);
    const seen: Record<string, string[]> = { a: [], b: [], d: [], modern: [] };
    const logs: Record<string, string[]> = { a: [], b: [] };
    a.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.a!.push(n.params.uri));
    bb.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.b!.push(n.params.uri));
    d.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void seen.d!.push(n.params.uri));
    a.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.a!.push(String(n.params.data)));
    bb.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.b!.push(String(n.params.data)));
    await a.setLoggingLevel('error');
    const { client: modern } = await connectV2(b.url);
    clients.push(modern);
    modern.setNotificationHandler('notifications/resources/updated', (n) => void seen.modern!.push(n.params.uri));
    const sub = await modern.listen({ resourceSubscriptions: [y] });
    assert.deepEqual(sub.honoredFilter.resourceSubscriptions, [y]);

    await a.subscribeResource({ uri: x });
    await bb.subscribeResource({ uri: y });
    await d.subscribeResource({ uri: x });
    await a.subscribeResource({ uri: z });
    // The server acknowledges each subscribe it receives with an info log line, which only b's
    // level lets through. Two sessions hold x, but the server was asked once: one line for x.
    await until(() => logs.b!.some((l) => l.includes(z)), 'the server to acknowledge z');
    const acks = (uri: string) => logs.b!.filter((l) => l.startsWith('Received Subscribe Resource request for URI') && l.includes(`${uri} `)).length;
    assert.deepEqual([acks(x), acks(y), acks(z)], [1, 1, 1], logs.b!.join('\n'));
    assert.deepEqual(logs.a, [], "a asked for errors only: the server's info lines are not sent to it");

    // Start the server's simulated updates: it sends one at once for every URI it was asked for.
    await a.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    try {
      await until(() => seen.a!.length >= 2 && seen.b!.length >= 1 && seen.d!.length >= 1 && seen.modern!.length >= 1, `updates (${JSON.stringify(seen)})`);
      assert.deepEqual(new Set(seen.a), new Set([x, z]));
      assert.deepEqual(new Set(seen.b), new Set([y]));
      assert.deepEqual(new Set(seen.d), new Set([x]));
      assert.deepEqual(new Set(seen.modern), new Set([y]));
    } finally {
      await a.callTool({ name: 'toggle-subscriber-updates', arguments: {} });
    }
    await sub.close();
  });

  test('the HTTP edge refuses what is not MCP with stable codes: no session, unknown session, other paths, bad JSON', async () => {
    const post = (body: string, headers: Record<string, string> = {}, url = b.url) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });
    const code = async (r: Response) => ((await r.json()) as { error: { data?: { code: string } } }).error.data?.code;
    const noSession = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}');
    assert.equal(noSession.status, 400);
    assert.equal(await code(noSession), 'ERR_STDIO_NO_SESSION');
    const unknown = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { 'mcp-session-id': 'no-such-session' });
    assert.equal(unknown.status, 404);
    assert.equal(await code(unknown), 'ERR_STDIO_UNKNOWN_SESSION');
    const elsewhere = await post('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', {}, b.url.replace('/mcp', '/other'));
    assert.equal(elsewhere.status, 404);
    assert.equal(await code(elsewhere), 'ERR_STDIO_BAD_REQUEST');
    const bad = await post('{"jsonrpc":');
    assert.equal(bad.status, 400);
    const badBody = (await bad.json()) as { error: { code: number; data: { code: string } } };
    assert.deepEqual([badBody.error.code, badBody.error.data.code], [-32700, 'ERR_STDIO_BAD_REQUEST']);
    // In a session, a method the bridge does not relay (the server advertises tasks; the bridge does not).
    const init = await post('{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}');
    const sid = init.headers.get('mcp-session-id')!;
    assert.match(await init.text(), /"protocolVersion":"2025-06-18"/);
    const tasks = await post('{"jsonrpc":"2.0","id":2,"method":"tasks/list"}', { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' });
    const message = JSON.parse(/^data: (.*)$/m.exec(await tasks.text())![1]!) as { id: number; error: { code: number; message: string; data: { code: string } } };
    assert.deepEqual([message.id, message.error.code, message.error.data.code], [2, -32601, 'ERR_STDIO_METHOD_NOT_RELAYED']);
    assert.equal(message.error.message, 'mcp-warden stdio bridge: tasks/list is not relayed to the stdio server');
    await fetch(b.url, { method: 'DELETE', headers: { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' } });
    const get = await fetch(b.url, { headers: { accept: 'text/event-stream' } });
    assert.equal(get.status, 405, 'a GET without a session: no 2025 session to stream, and 2026-07-28 has no GET');
    await get.body?.cancel();
  });

  test('at MCP_STDIO_MAX_SESSIONS an idle session is closed for a new one; with every session busy a new one gets 503', async () => {
    // DELETE ends a 2025 session (onsessionclosed); the earlier tests' clients leave that way.
    for (const c of clients.splice(0)) {
      if (c instanceof ClientV1) await (c.transport as TransportV1 | undefined)?.terminateSession();
      await c.close().catch(() => undefined);
    }
    await until(() => b.bridge.sessionCount === 0, 'earlier sessions to close');
    // Initializes the transport refuses (no text/event-stream in Accept) give their places back.
    for (let i = 0; i < 8; i++) {
      const r = await fetch(b.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}' });
      assert.equal(r.status, 406, await r.text());
    }
    // Six v1 clients: each holds its GET stream open, so none is idle.
    const busy: ClientV1[] = [];
    for (let i = 0; i < 6; i++) busy.push(await v1(b.url));
    clients.push(...busy);
    await until(() => b.bridge.sessionCount === 6, 'six sessions');
    const refused = await fetch(b.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}' });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match(await refused.text(), /ERR_STDIO_SESSIONS_FULL/);
    // One client goes quiet (its stream ends but it never sends DELETE): the next initialize takes its place.
    await (busy[0]!.transport as TransportV1 | undefined)?.close();
    await until(async () => {
      const again = await v1(b.url).catch(() => undefined);
      if (again) clients.push(again);
      return again !== undefined;
    }, 'a new session once one is idle');
    assert.equal(b.bridge.sessionCount, 6);
    assert.ok(b.logs.some((l) => l.msg === 'session closed' && l.why === 'evicted'), 'the idle one was evicted');
  });
});

describe('bridge drain (SIGTERM)', () => {
  let b: RunningBridge;
  before(async () => {
    b = await startBridge({ env: { MCP_STDIO_SHUTDOWN_GRACE_MS: '20000' } });
  });
  after(() => b?.close());

  test('a call in flight finishes, a new request gets 503, readiness fails at once, then the server sees EOF and exits', async () => {
    const client = await v1(b.url);
    let progressed = false;
    const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } }, undefined, { onprogress: () => void (progressed = true) });
    await until(() => progressed, 'the call to be running');
    const serverExit = new Promise((r) => b.server().once('exit', (code, signal) => r([code, signal])));
    const drained = b.bridge.drain();
    assert.equal(b.bridge.ready, false, 'readiness fails at once');
    const refused = await fetch(b.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}' }).then(
      async (r) => [r.status, await r.text()] as const,
      () => [0, 'connection refused'] as const,
    );
    assert.ok(refused[0] === 503 || refused[0] === 0, `a new request while draining: ${refused.join(' ')}`);
    const r = await call;
    assert.match(JSON.stringify(r.content), /Long running operation completed/);
    await drained;
    // Not signalled by anyone: its stdin closed. (Its exit code is 0, unless its last progress
    // notification, which server-everything sends without waiting, lost the race with the close.)
    assert.equal((await serverExit as [number | null, string | null])[1], null, 'the server exited by itself once its stdin closed');
    await client.close().catch(() => undefined);
  });
});

describe('bridge drain (SIGTERM) while the server is answering initialize', () => {
  const SLOW = join(import.meta.dirname, 'fixtures', 'slow-initialize.mjs');
  // "1500": the server answers after the drain began; "never": it would answer only when the
  // handshake timed out (MCP_STDIO_REQUEST_TIMEOUT_MS, set far beyond the bound below).
  for (const delay of ['1500', 'never']) {
    test(`initialize answered ${delay === 'never' ? 'never' : `after ${delay} ms`}: the drain ends, the server sees EOF, the bridge never turns ready`, async () => {
      const b = await startBridge({ argv: [process.execPath, SLOW, delay], untilReady: false, env: { MCP_STDIO_REQUEST_TIMEOUT_MS: '600000', MCP_STDIO_SHUTDOWN_GRACE_MS: '500' } });
      try {
        await until(() => b.bridge.upstream.state === 'initializing', 'the bridge to send initialize');
        // The bridge can be initializing before the wrapper has opened its stdout FIFO (the bridge
        // opens its ends without blocking); a drain then would leave the wrapper blocked in open()
        // with no reader, and the server never started. Wait until the wrapper has exec'd it.
        const pid = b.server().pid!;
        await until(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('slow-initialize'), 'the wrapper to exec the server');
        const exit = new Promise((r) => b.server().once('exit', (code, signal) => r([code, signal])));
        const drained = b.bridge.drain().then(() => 'drained');
        // A bound against a hang, not a timing check: a drain that waits for the handshake waits
        // 1.5 s, then (the server having answered) forever, or 10 minutes for "never".
        const outcome = await Promise.race([drained, sleep(15_000, 'still draining', { ref: false })]);
        assert.equal(outcome, 'drained');
        assert.equal(b.bridge.upstream.state, 'stopped');
        assert.deepEqual(await exit, [0, null], 'the server exited by itself: its stdin was closed');
        assert.ok(!b.logs.some((l) => l.msg === 'stdio server ready'), 'the answer, if any, did not make the stopped bridge ready');
      } finally {
        await b.close();
      }
    });
  }
});

describe('bridge: a subscriptions/listen client that leaves while the server is still subscribing', () => {
  let b: RunningBridge;
  const clients: Array<{ close(): Promise<unknown> }> = [];
  before(async () => {
    b = await startBridge({ argv: [process.execPath, join(import.meta.dirname, 'fixtures', 'held-subscribe.mjs')] });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await b?.close();
  });

  test('its reference is released once the subscribe is answered: the server gets resources/unsubscribe', async () => {
    const tools = await v1(b.url);
    clients.push(tools);
    const seen = async (): Promise<string[]> => JSON.parse(((await tools.callTool({ name: 'seen', arguments: {} })).content as Array<{ text: string }>)[0]!.text) as string[];
    const { client: modern } = await connectV2(b.url);
    clients.push(modern);
    const leave = new AbortController();
    const listening = modern.listen({ resourceSubscriptions: ['demo://held'] }, { signal: leave.signal });
    await until(async () => (await seen()).includes('subscribe demo://held'), 'the bridge to ask the server to subscribe');
    // The client goes away while the bridge waits for the server's answer to subscribe.
    leave.abort();
    await assert.rejects(listening);
    await tools.callTool({ name: 'answer-subscribe', arguments: {} });
    await until(async () => (await seen()).includes('unsubscribe demo://held'), 'the bridge to unsubscribe the URI no one holds any more');
    assert.deepEqual(await seen(), ['subscribe demo://held', 'unsubscribe demo://held']);
    assert.ok(!b.logs.some((l) => l.msg === '2026-07-28 handler failed' || l.msg === 'request failed'), 'nothing was served on the closed response');
  });
});

/**
 * Restarts in a stdio pod, run here as the kubelet would: when the stdio server dies, requests in
 * flight fail at once, the bridge turns unready (the pod leaves its Service), requests get 503 with
 * the reason and 2025 sessions end; once the container is restarted the bridge connects again and
 * clients are served. When the bridge itself dies, the server sees EOF on stdin and exits, as
 * stdio servers do; both come back.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient } from '../helpers/mcp-client.ts';
import { startStdioPod, type StdioPod } from '../helpers/stdio-pod.ts';
import { connectV2 } from '../helpers/v2-client.ts';
import { until } from '../helpers/wait.ts';

const BRIDGE = 'mcp-warden-stdio';
const INIT = '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}';

async function echo(p: StdioPod, message: string): Promise<string> {
  const client = await connectClient(new URL(p.url).origin, 'streamableHttp', p.headers);
  try {
    const r = await client.callTool({ name: 'echo', arguments: { message } });
    return (r.content as Array<{ text: string }>)[0]!.text;
  } finally {
    await client.close();
  }
}

describe('stdio pod restarts', () => {
  let p: StdioPod;
  before(async () => {
    p = await startStdioPod({ server: 'everything' });
    await p.pod.waitReady();
  });
  after(() => p?.pod.stop());

  test('the server dies: calls in flight fail at once, the bridge is unready and answers 503, sessions end; after the restart clients are served', async () => {
    const server = p.pod.container('server');
    const session = await connectClient(new URL(p.url).origin, 'streamableHttp', p.headers);
    const { client: modern } = await connectV2(p.url, p.headers);
    assert.match(await echo(p, 'before'), /before/);

    // Calls that would run for 20 s, each seen running (a progress notification) before the crash.
    let started = 0;
    const outcome = (call: Promise<unknown>) => call.then(() => 'answered', (err: Error) => err.message);
    const running = outcome(session.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 20 } }, undefined, { onprogress: () => void started++ }));
    const runningModern = outcome(modern.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 20 } }, { onprogress: () => void started++ }));
    await until(() => started >= 2, 'both calls to report progress');

    server.holdRestarts();
    const exited = server.nextExit();
    server.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');
    assert.match(await running, /the MCP server process exited before answering tools\/call/);
    assert.match(await runningModern, /the MCP server process exited before answering tools\/call/);

    await until(async () => !(await p.pod.probe(BRIDGE)), 'the bridge to turn unready');
    const down = await fetch(p.url, { method: 'POST', headers: { ...p.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: INIT });
    assert.equal(down.status, 503);
    assert.equal(down.headers.get('retry-after'), '1');
    const body = (await down.json()) as { error: { message: string; data: { code: string } } };
    assert.equal(body.error.data.code, 'ERR_STDIO_NOT_RUNNING');
    assert.match(body.error.message, /the MCP server is not running: .*(waiting for its container to restart|not waiting on its stdin FIFO)/);
    const readyz = await fetch(`http://127.0.0.1:${p.config.sidecar.stdioAdminPort}/readyz`);
    assert.equal(readyz.status, 503);
    assert.match(await readyz.text(), /not ready: /);

    server.resumeRestarts();
    await p.pod.waitReady();
    assert.equal(server.exits.length, 1, 'one exit: the kill');
    // The 2025 session belonged to the dead process: 404 tells the client to initialize again.
    await assert.rejects(session.listTools(), /404|no such session/);
    await session.close().catch(() => undefined);
    assert.match(await echo(p, 'after the restart'), /after the restart/);
    // The 2026-07-28 client has no session: the same client works again.
    const r = await modern.callTool({ name: 'echo', arguments: { message: 'modern again' } });
    assert.match(JSON.stringify(r.content), /modern again/);
    await modern.close();
    assert.match(p.pod.container(BRIDGE).output(), /the stdio server exited/);
  });

  test('the bridge dies: the server sees EOF and exits by itself; both restart and the pod serves again', async () => {
    const server = p.pod.container('server');
    const bridge = p.pod.container(BRIDGE);
    const serverExit = server.nextExit();
    const bridgeExit = bridge.nextExit();
    bridge.kill('SIGKILL');
    assert.equal((await bridgeExit).signal, 'SIGKILL');
    // Nobody signals the server: server-everything exits with 0 when its stdin ends.
    const e = await serverExit;
    assert.deepEqual([e.code, e.signal], [0, null]);
    await p.pod.waitReady();
    assert.match(await echo(p, 'after the bridge restart'), /after the bridge restart/);
  });
});

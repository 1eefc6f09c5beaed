/**
 * The shipped bridge bundle, dist/stdio-bridge.mjs, run the way the sidecar image runs it: alone in
 * a folder, no node_modules, only its variables. A bad variable exits 2 naming it; with a stdio
 * server behind the wrapper it serves, and SIGTERM exits 0 after closing the server's stdin (the
 * server exits on EOF).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { wrapCommand } from '../../webhook/inject/stdio-wrapper.ts';
import { isolatedBundle } from '../helpers/bundle.ts';
import { EVERYTHING } from '../helpers/bridge.ts';
import { until } from '../helpers/wait.ts';

describe('the bridge bundle runs alone', () => {
  const cleanup: Array<() => void> = [];
  after(() => cleanup.forEach((f) => f()));

  test('a bad variable exits 2 and names it', async () => {
    const bundle = isolatedBundle('stdio-bridge');
    const child = spawn(process.execPath, [bundle], { cwd: dirname(bundle), env: { PATH: '/usr/bin:/bin', MCP_STDIO_ADMIN_PORT: 'nine' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /MCP_STDIO_ADMIN_PORT: got "nine"; expected a TCP port/);
  });

  test('serves a wrapped stdio server; SIGTERM exits 0 and the server sees EOF and exits', async () => {
    const bundle = isolatedBundle('stdio-bridge');
    const dir = mkdtempSync(join(tmpdir(), 'warden-bundle-fifo-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const [sh, ...args] = wrapCommand([process.execPath, EVERYTHING, 'stdio'], dir, join(dir, 'termination-log'));
    const server: ChildProcess = spawn(sh!, args, { stdio: 'ignore' });
    cleanup.push(() => server.kill('SIGKILL'));
    const bridge = spawn(process.execPath, [bundle], {
      cwd: dirname(bundle),
      env: { PATH: '/usr/bin:/bin', MCP_STDIO_DIR: dir, MCP_STDIO_LISTEN_PORT: '0', MCP_STDIO_ADMIN_HOST: '127.0.0.1', MCP_STDIO_ADMIN_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => bridge.kill('SIGKILL'));
    let out = '';
    bridge.stdout.on('data', (d: Buffer) => (out += d));
    bridge.stderr.on('data', (d: Buffer) => (out += d));
    await until(() => out.includes('"msg":"mcp-warden stdio bridge started"'), 'the start line', 20_000);
    const start = JSON.parse(out.split('\n').find((l) => l.includes('stdio bridge started'))!) as { port: number; adminPort: number };
    await until(async () => (await fetch(`http://127.0.0.1:${start.adminPort}/readyz`)).status === 200, '/readyz 200', 20_000);
    const init = await fetch(`http://127.0.0.1:${start.port}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}',
    });
    const initText = await init.text();
    assert.equal(init.status, 200, initText);
    assert.ok(init.headers.get('mcp-session-id'));
    assert.match(initText, /"name":"mcp-servers\/everything"/);
    // One request relayed to the server: it answers in order, so whatever it wrote on its own at
    // start (list_changed after initialize) is out before this answer, and the stop below cannot
    // race a write into the closed FIFO.
    const session = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-06-18' };
    await (await fetch(`http://127.0.0.1:${start.port}/mcp`, { method: 'POST', headers: session, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' })).text();
    const list = await fetch(`http://127.0.0.1:${start.port}/mcp`, { method: 'POST', headers: session, body: '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' });
    assert.match(await list.text(), /"name":"echo"/);

    const serverExit = once(server, 'exit');
    bridge.kill('SIGTERM');
    const [code] = await once(bridge, 'exit');
    assert.equal(code, 0, out);
    assert.deepEqual((await serverExit).slice(0, 2), [0, null], `the server exited by itself: its stdin ended\n${out}`);
    assert.deepEqual(readdirSync(dirname(bundle)).sort(), ['stdio-bridge.mjs'], 'the bridge wrote nothing beside its bundle');
  });
});

/** Acceptance 4 and 5: upstream faults, client aborts, SIGTERM draining and bad configuration. */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { startSidecar } from '../helpers/sidecar.ts';
import { freePort } from '../helpers/ports.ts';
import { isolatedBundle } from '../helpers/bundle.ts';
import { until } from '../helpers/wait.ts';

const KEY = 'fault-key-9f9f9f9f';
const auth = { 'x-api-key': KEY };

/** An upstream that opens an SSE stream and sends one event, then idles; and answers POST /slow late. */
function streamingUpstream(): Promise<Upstream> {
  return startUpstream((req, res) => {
    if (req.url === '/slow') {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"slow":true}'), 800);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write('event: message\ndata: {"n":1}\n\n');
  });
}

describe('upstream faults', () => {
  test('upstream down: 502 JSON', async () => {
    const port = await freePort();
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: `http://127.0.0.1:${port}`, MCP_AUTH_KEY: KEY });
    try {
      const res = await fetch(`${sc.url}/mcp`, { headers: auth });
      assert.equal(res.status, 502);
      assert.deepEqual(await res.json(), { error: 'Bad Gateway', message: 'The MCP server is unavailable' });
      const metrics = await (await fetch(`${sc.adminUrl}/metrics`)).text();
      assert.match(metrics, /mcp_warden_upstream_errors_total\{kind="refused"\} 1/);
    } finally {
      await sc.close();
    }
  });

  test('an upstream that never answers: 504 JSON after the timeout', async () => {
    const up = await startUpstream(() => undefined);
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_UPSTREAM_TIMEOUT_MS: '300' });
    try {
      const res = await fetch(`${sc.url}/mcp`, { headers: auth });
      assert.equal(res.status, 504);
      assert.deepEqual(await res.json(), { error: 'Gateway Timeout', message: 'The MCP server did not answer in time' });
    } finally {
      await sc.close();
      await up.close();
    }
  });

  test('a client that aborts mid-stream makes the upstream see the abort', async () => {
    const up = await streamingUpstream();
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY });
    try {
      const ac = new AbortController();
      const res = await fetch(`${sc.url}/mcp`, { headers: auth, signal: ac.signal });
      const reader = res.body!.getReader();
      const first = await reader.read();
      assert.match(Buffer.from(first.value!).toString(), /"n":1/);
      assert.equal(up.closed.length, 0);
      ac.abort();
      await until(() => up.closed.length === 1, 'the upstream to see the close');
    } finally {
      await sc.close();
      await up.close();
    }
  });

  // 35 s of idle: undici's default bodyTimeout (30 s) would cut the stream; the sidecar sets none.
  test('an SSE stream idle longer than undici\'s default body timeout is not cut', async () => {
    const up = await streamingUpstream();
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY });
    try {
      const res = await fetch(`${sc.url}/mcp`, { headers: auth });
      const reader = res.body!.getReader();
      await reader.read();
      const next = Promise.race([reader.read().then(() => 'ended'), sleep(35_000).then(() => 'open')]);
      assert.equal(await next, 'open');
      await reader.cancel();
    } finally {
      await sc.close();
      await up.close();
    }
  });
});

describe('the bundle as a process', () => {
  let bundle: string;
  before(() => {
    bundle = isolatedBundle('sidecar');
  });

  test('several bad settings: each named with its value and expectation, exit code 2', async () => {
    const child = spawn(process.execPath, [bundle], {
      env: { PATH: process.env.PATH, MCP_AUTH_LISTEN_PORT: 'eighty', MCP_AUTH_UPSTREAM_TIMEOUT_MS: '-5', MCP_AUTH_HEADER: 'Bad Header', MCP_AUTH_ALLOWED_ORIGINS: 'https://ok.example,not-an-origin', MCP_AUTH_KEY: 'sekrit value' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise((r) => child.on('exit', r));
    assert.equal(code, 2);
    for (const setting of ['MCP_AUTH_UPSTREAM_URL', 'MCP_AUTH_LISTEN_PORT', 'MCP_AUTH_UPSTREAM_TIMEOUT_MS', 'MCP_AUTH_HEADER', 'MCP_AUTH_ALLOWED_ORIGINS', 'MCP_AUTH_KEY']) {
      assert.match(stderr, new RegExp(`- ${setting}: got .*; expected `), setting);
    }
    assert.match(stderr, /MCP_AUTH_LISTEN_PORT: got "eighty"; expected a TCP port/);
    assert.match(stderr, /not valid: "not-an-origin"/);
    assert.doesNotMatch(stderr, /sekrit/);
  });

  test('SIGTERM: readiness fails at once, in-flight requests finish, open streams end cleanly, exit 0', async () => {
    const up = await streamingUpstream();
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [bundle], {
      env: { PATH: process.env.PATH, MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_LISTEN_HOST: '127.0.0.1', MCP_AUTH_LISTEN_PORT: String(port), MCP_AUTH_ADMIN_HOST: '127.0.0.1', MCP_AUTH_ADMIN_PORT: String(adminPort), MCP_AUTH_SHUTDOWN_GRACE_MS: '8000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      await until(() => out.includes('sidecar started'), 'the start line', 15_000);
      const start = JSON.parse(out.split('\n').find((l) => l.includes('sidecar started'))!);
      assert.equal(start.auth.mode, 'apikey');
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status, 200);

      const stream = await fetch(`${base}/mcp`, { headers: auth });
      const reader = stream.body!.getReader();
      await reader.read();
      const slow = fetch(`${base}/slow`, { method: 'POST', headers: auth });
      await until(() => up.seen.some((s) => s.url === '/slow'), 'the slow request to reach the upstream');

      child.kill('SIGTERM');
      // The slow request keeps the process draining, so readiness can be seen failing.
      let ready = 200;
      await until(async () => (ready = await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status, () => 0)) !== 200, 'readiness to change');
      assert.equal(ready, 503, 'readiness fails while draining');
      // The open stream ends cleanly (a normal end of body, not an error).
      let done = false;
      for (let reads = 0; !done && reads < 100; reads++) done = (await reader.read()).done;
      assert.ok(done, 'the stream ended');
      const slowRes = await slow;
      assert.equal(slowRes.status, 200);
      assert.deepEqual(await slowRes.json(), { slow: true });
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      await up.close();
    }
  });
});

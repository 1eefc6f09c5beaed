/**
 * Fault injection against the shipped bundle: many randomized exchanges (client resets at every
 * phase, malformed framing, refused bodies, upstream resets, refused encodings), each against a
 * sidecar with tool policy and request DLP on or a plain one. Afterwards the same two processes are
 * alive and serve, and their in-flight and open-stream gauges are back to zero.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { isolatedBundle } from '../../helpers/bundle.ts';
import { freePort } from '../../helpers/ports.ts';
import { until } from '../../helpers/wait.ts';
import { prng } from '../../helpers/prng.ts';

const KEY = 'fault-injection-key-7777';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An upstream whose paths misbehave on purpose. */
function faultyUpstream(): Promise<Server> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => {});
    res.on('error', () => {});
    const path = (req.url ?? '').split('?')[0];
    const json = (o: unknown, extra: Record<string, string> = {}): void => void res.writeHead(200, { 'content-type': 'application/json', ...extra }).end(JSON.stringify(o));
    // An upstream that answers before reading the body (as servers do for a media type they refuse):
    // the rest of the body is then nobody's, until the client breaks it.
    if (path === '/early') return void res.writeHead(415, { 'content-type': 'application/json' }).end('{"error":"unsupported"}');
    // Read what the sidecar forwards first, as a server does, then misbehave.
    req.resume();
    req.on('end', () => {
      switch (path) {
        case '/reset-head':
          return void req.socket.resetAndDestroy();
        case '/reset-mid-length':
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000' });
          res.write(`{"text":"${'a'.repeat(100)}`);
          return void setImmediate(() => req.socket.destroy());
        case '/reset-mid-chunked':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('x'.repeat(3000));
          return void setImmediate(() => req.socket.destroy());
        case '/reset-mid-sse':
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('event: message\ndata: {"n":1}\n\ndata: {"n":');
          return void setTimeout(() => req.socket.destroy(), 20);
        case '/sse-long': {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          let n = 0;
          const t = setInterval(() => res.write(`data: {"n":${n++},"mail":"bob@example.com"}\n\n`), 5);
          res.on('close', () => clearInterval(t));
          return;
        }
        case '/zstd':
        case '/compress':
        case '/gzipgzip':
          return json({ ok: true }, { 'content-encoding': path === '/gzipgzip' ? 'gzip, gzip' : path.slice(1) });
        case '/corrupt-gzip':
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          return void res.end(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7]));
        case '/slow':
          return void setTimeout(() => json({ slow: true }), 150);
        case '/big':
          return void res.writeHead(200, { 'content-type': 'text/plain' }).end('lorem ipsum AKIAIOSFODNN7ABCDEFG '.repeat(20_000));
        case '/big-json-slow': {
          const body = JSON.stringify({ t: 'y'.repeat(40_000) });
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length) });
          res.write(body.slice(0, 1000));
          return void setTimeout(() => res.end(body.slice(1000)), 100);
        }
        case '/tools-gzip':
          return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(zlib.gzipSync(JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'echo' }, { name: 'get-env' }] } })));
        default:
          return json({ ok: true, method: req.method });
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

interface Proc {
  readonly child: ChildProcess;
  readonly port: number;
  readonly adminPort: number;
  stderr: string;
}

async function startBundle(bundle: string, upstream: string, extra: Record<string, string>): Promise<Proc> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [bundle], {
    env: { PATH: process.env.PATH, MCP_AUTH_UPSTREAM_URL: upstream, MCP_AUTH_KEY: KEY, MCP_AUTH_LISTEN_HOST: '127.0.0.1', MCP_AUTH_LISTEN_PORT: String(port), MCP_AUTH_ADMIN_HOST: '127.0.0.1', MCP_AUTH_ADMIN_PORT: String(adminPort), MCP_AUTH_LOG_LEVEL: 'error', MCP_AUTH_MAX_BODY_BYTES: '65536', ...extra },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const p: Proc = { child, port, adminPort, stderr: '' };
  child.stderr!.on('data', (d: Buffer) => (p.stderr += d.toString()));
  await until(async () => (await fetch(`http://127.0.0.1:${adminPort}/livez`).then((r) => r.status, () => 0)) === 200, 'the bundle to listen', 15_000);
  return p;
}

/**
 * A raw exchange: write `parts` (waiting `gapMs` between them, or for the first response byte when
 * a gap is 'response'), then end the connection with a reset or a clean close. Never throws; at
 * most about a second.
 */
function raw(port: number, parts: readonly (string | Buffer)[], o: { gaps?: readonly (number | 'response')[]; finish: 'reset' | 'close' | 'read' }): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = false;
    let onFirst: (() => void) | undefined;
    const done = (): void => {
      clearTimeout(timer);
      clearTimeout(quiet);
      if (!s.destroyed) s.resetAndDestroy();
      resolve();
    };
    const timer = setTimeout(done, 1500);
    // 'read': done once the server closes, or once it has been quiet for a moment after answering.
    let quiet: NodeJS.Timeout | undefined;
    s.on('error', () => done());
    s.on('close', () => done());
    s.on('data', () => {
      got = true;
      onFirst?.();
      if (o.finish === 'read') {
        clearTimeout(quiet);
        quiet = setTimeout(done, 100);
      }
    });
    s.once('connect', async () => {
      for (const [i, p] of parts.entries()) {
        if (s.destroyed) return;
        s.write(p);
        const gap = o.gaps?.[i];
        if (gap === 'response') await new Promise<void>((r) => (got ? r() : (onFirst = r, setTimeout(r, 500))));
        else if (gap !== undefined) await sleep(gap);
      }
      if (o.finish === 'reset') done();
      else if (o.finish === 'close') s.end();
      // 'read': wait for the server to finish or the timer.
    });
  });
}

const H = `Host: sidecar\r\nX-API-Key: ${KEY}\r\n`;
const CALL = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'AKIAIOSFODNN7ABCDEFG' } } });
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });

type Action = (port: number, rnd: () => number) => Promise<void>;

/** Every kind of exchange the test draws from. */
const ACTIONS: Record<string, Action> = {
  'reset in the request headers': (port) => raw(port, [`POST /mcp HTTP/1.1\r\nHost: sidecar\r\nContent-Ty`], { finish: 'reset' }),
  'reset in a Content-Length body (JSON)': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"jsonrpc":"2.0",`], { gaps: [20], finish: 'reset' }),
  'reset in a Content-Length body (text)': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\nhello`], { gaps: [20], finish: 'reset' }),
  'reset in a body, no key': (port) => raw(port, [`POST /mcp HTTP/1.1\r\nHost: sidecar\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\nhello`], { gaps: ['response'], finish: 'reset' }),
  'malformed chunk (text) after a pause': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, 'ZZZ\r\nnot a chunk\r\n'], { gaps: [30], finish: 'read' }),
  'malformed chunk (JSON) after a pause': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n`, 'QQ\r\n\r\n'], { gaps: [30], finish: 'read' }),
  'refused body, then a malformed chunk': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, 'ZZ\r\nbad\r\n'], { gaps: ['response'], finish: 'read' }),
  'upstream answers before the body, then a malformed chunk': (port) => raw(port, [`POST /early HTTP/1.1\r\n${H}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`, 'ZZ\r\nbad\r\n'], { gaps: ['response'], finish: 'read' }),
  'upstream answers before the body, then a reset': (port) => raw(port, [`POST /early HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 5000\r\n\r\nhello`], { gaps: ['response'], finish: 'reset' }),
  'refused body, then a reset': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 5000\r\n\r\nhello`], { gaps: ['response'], finish: 'reset' }),
  'reset while the upstream thinks': (port) => raw(port, [`GET /slow HTTP/1.1\r\n${H}\r\n`], { gaps: [40], finish: 'reset' }),
  'reset mid-stream': (port, rnd) => raw(port, [`GET /sse-long HTTP/1.1\r\n${H}\r\n`], { gaps: [10 + Math.floor(rnd() * 60)], finish: 'reset' }),
  'reset mid-body (whole path)': (port) => raw(port, [`GET /big-json-slow HTTP/1.1\r\n${H}\r\n`], { gaps: [30], finish: 'reset' }),
  'reset mid-body (large)': (port) => raw(port, [`GET /big HTTP/1.1\r\n${H}\r\n`], { gaps: ['response'], finish: 'reset' }),
  'upstream reset before the head': (port) => raw(port, [`GET /reset-head HTTP/1.1\r\n${H}\r\n`], { finish: 'read' }),
  'upstream reset mid-body (length)': (port) => raw(port, [`GET /reset-mid-length HTTP/1.1\r\n${H}\r\n`], { finish: 'read' }),
  'upstream reset mid-body (chunked)': (port) => raw(port, [`GET /reset-mid-chunked HTTP/1.1\r\n${H}\r\n`], { finish: 'read' }),
  'upstream reset mid-stream': (port) => raw(port, [`GET /reset-mid-sse HTTP/1.1\r\n${H}\r\n`], { finish: 'read' }),
  'refused encoding': (port, rnd) => raw(port, [`GET ${['/zstd', '/compress', '/gzipgzip'][Math.floor(rnd() * 3)]} HTTP/1.1\r\n${H}\r\n`], { finish: 'read' }),
  'corrupt gzip': (port) => raw(port, [`GET /corrupt-gzip HTTP/1.1\r\n${H}\r\n`], { finish: 'read' }),
  'tools/list answered compressed': (port) => raw(port, [`POST /tools-gzip HTTP/1.1\r\n${H}Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${LIST.length}\r\n\r\n${LIST}`], { finish: 'read' }),
  'a body on an exempt GET': (port) => raw(port, [`GET /health HTTP/1.1\r\nHost: sidecar\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n{"a":`], { gaps: ['response'], finish: 'reset' }),
  'Expect: 100-continue, then a reset': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 3000\r\n\r\n`, '{"jsonrpc":'], { gaps: ['response', 10], finish: 'reset' }),
  'garbage after a request': (port) => raw(port, [`GET /mcp HTTP/1.1\r\n${H}\r\n\x00\x01\x02 GARBAGE\r\n\r\n`], { finish: 'read' }),
  'body over the cap, chunked': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`, `10000\r\n${'a'.repeat(0x10000)}\r\n`, `10\r\n${'b'.repeat(16)}\r\n0\r\n\r\n`], { gaps: [5, 5], finish: 'read' }),
  'a tool call, cut mid-body': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nContent-Length: ${CALL.length}\r\n\r\n${CALL.slice(0, 30)}`], { gaps: [15], finish: 'reset' }),
  'a good tool call': (port) => raw(port, [`POST /mcp HTTP/1.1\r\n${H}Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${CALL.length}\r\n\r\n${CALL}`], { finish: 'read' }),
};

async function gauge(adminPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe('fault injection (the bundle as a process)', () => {
  let upstream: Server;
  let guarded: Proc;
  let plain: Proc;
  before(async () => {
    upstream = await faultyUpstream();
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    const bundle = isolatedBundle('sidecar');
    [guarded, plain] = await Promise.all([
      startBundle(bundle, url, { MCP_AUTH_DENY_TOOLS: 'get-env', MCP_AUTH_DLP_REQUESTS: 'true' }),
      startBundle(bundle, url, {}),
    ]);
  });
  after(async () => {
    guarded?.child.kill('SIGKILL');
    plain?.child.kill('SIGKILL');
    upstream?.closeAllConnections();
    await new Promise((r) => upstream?.close(r));
  });

  test('200 randomized hostile exchanges: the same processes still serve; gauges back to zero', async () => {
    const rnd = prng(20261201);
    const names = Object.keys(ACTIONS);
    const ran = new Map<string, number>();
    for (let batch = 0; batch < 40; batch++) {
      // A few at once, as a busy pod sees them.
      await Promise.all(
        Array.from({ length: 5 }, () => {
          const name = names[Math.floor(rnd() * names.length)]!;
          const target = rnd() < 0.5 ? guarded : plain;
          ran.set(name, (ran.get(name) ?? 0) + 1);
          return ACTIONS[name]!(target.port, rnd);
        }),
      );
      for (const p of [guarded, plain]) assert.equal(p.child.exitCode, null, `a sidecar died after batch ${batch}: ${p.stderr.slice(-2000)}`);
    }
    assert.equal(ran.size, names.length, `every kind of exchange ran (missing: ${names.filter((n) => !ran.has(n)).join(', ')})`);
    for (const p of [guarded, plain]) {
      assert.equal(p.child.exitCode, null, p.stderr.slice(-2000));
      const res = await fetch(`http://127.0.0.1:${p.port}/ok`, { headers: { 'x-api-key': KEY } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true, method: 'GET' });
      await until(async () => (await gauge(p.adminPort, 'mcp_warden_inflight_requests')) === 0, 'in-flight back to zero', 5000);
      await until(async () => (await gauge(p.adminPort, 'mcp_warden_open_streams')) === 0, 'open streams back to zero', 5000);
      assert.doesNotMatch(p.stderr, /Unhandled|uncaught/i);
    }
  });
});

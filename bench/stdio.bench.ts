/**
 * The stdio bridge's cost: requests/s and latency of `tools/call echo` against server-everything
 * over its own Streamable HTTP (the baseline: the same server, the same SDK, no bridge) and the same
 * server over stdio behind the bridge bundle (dist/stdio-bridge.mjs, the webhook's /bin/sh wrapper
 * and FIFOs), in a 2025 session on both, plus the bridge's 2026-07-28 stateless path (a Server per
 * request; server-everything has no such path of its own). Each target is measured twice,
 * interleaved, and the better run kept: load generator, bridge and server share two cores here.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { wrapCommand } from '../webhook/inject/stdio-wrapper.ts';
import { fixedRate, freePort, load, start, stop, table, waitListening, type LoadResult } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const EVERYTHING = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATE = 200;
const CONNS = 16;
const ACCEPT = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

// Baseline: server-everything's own Streamable HTTP transport.
const httpPort = await freePort();
const http = start(process.execPath, [EVERYTHING, 'streamableHttp'], { PORT: String(httpPort) });
await waitListening(httpPort, http);

// The same server over stdio: the webhook's wrapper in a FIFO directory, and the bridge bundle.
const dir = mkdtempSync(join(tmpdir(), 'bench-stdio-'));
const [sh, ...args] = wrapCommand([process.execPath, EVERYTHING, 'stdio'], dir, join(dir, 'termination-log'));
const server = start(sh!, args);
const [bridgePort, bridgeAdmin] = [await freePort(), await freePort()];
const bridge = start(process.execPath, [join(root, 'dist', 'stdio-bridge.mjs')], { MCP_STDIO_DIR: dir, MCP_STDIO_LISTEN_PORT: String(bridgePort), MCP_STDIO_ADMIN_HOST: '127.0.0.1', MCP_STDIO_ADMIN_PORT: String(bridgeAdmin), MCP_STDIO_LOG_LEVEL: 'warn' });
for (let i = 0; ; i++) {
  if ((await fetch(`http://127.0.0.1:${bridgeAdmin}/readyz`).then((r) => r.status, () => 0)) === 200) break;
  if (i > 200) throw new Error('the bridge did not become ready');
  await new Promise((r) => setTimeout(r, 50));
}

/** A 2025 session: initialize, then notifications/initialized; the headers every later request carries. */
async function session(url: string): Promise<Record<string, string>> {
  const init = await fetch(url, { method: 'POST', headers: ACCEPT, body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }) });
  const id = init.headers.get('mcp-session-id');
  await init.text();
  if (!id) throw new Error(`no session from ${url}: ${init.status}`);
  const headers = { ...ACCEPT, 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' };
  await (await fetch(url, { method: 'POST', headers, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' })).text();
  return headers;
}

const echo = (id: string, meta?: Record<string, unknown>) => `{"jsonrpc":"2.0","id":"${id}","method":"tools/call","params":{"name":"echo","arguments":{"message":"bench"}${meta ? `,"_meta":${JSON.stringify(meta)}` : ''}}}`;
const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
const MODERN_HEADERS = { ...ACCEPT, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' };

interface Target {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly meta?: Record<string, unknown>;
}
const targets: Target[] = [
  { name: 'server-everything, Streamable HTTP (baseline)', url: `http://127.0.0.1:${httpPort}/mcp`, headers: await session(`http://127.0.0.1:${httpPort}/mcp`) },
  { name: 'server-everything, stdio via the bridge (2025 session)', url: `http://127.0.0.1:${bridgePort}/mcp`, headers: await session(`http://127.0.0.1:${bridgePort}/mcp`) },
  { name: 'server-everything, stdio via the bridge (2026-07-28)', url: `http://127.0.0.1:${bridgePort}/mcp`, headers: MODERN_HEADERS, meta: MODERN_META },
];

// One check before measuring: each target answers the call (a bench of errors measures nothing).
for (const t of targets) {
  const r = await fetch(t.url, { method: 'POST', headers: t.headers, body: echo('check', t.meta) });
  const text = await r.text();
  if (r.status !== 200 || !text.includes('Echo: bench')) throw new Error(`${t.name}: ${r.status} ${text.slice(0, 200)}`);
}

type Fixed = Awaited<ReturnType<typeof fixedRate>>;
const max = new Map<string, LoadResult>();
const fixed = new Map<string, Fixed>();
for (let round = 0; round < 2; round++) {
  for (const t of targets) {
    const m = await load({ url: t.url, method: 'POST', headers: t.headers, body: echo('[<id>]', t.meta), idReplacement: true, seconds: SECONDS, connections: CONNS });
    if (!max.has(t.name) || m.rps > max.get(t.name)!.rps) max.set(t.name, m);
    const f = await fixedRate({ url: t.url, method: 'POST', headers: t.headers, body: (i) => echo(`r${round}-${i}`, t.meta), rate: RATE, seconds: SECONDS });
    if (!fixed.has(t.name) || f.p50 < fixed.get(t.name)!.p50) fixed.set(t.name, f);
  }
}

const base = fixed.get(targets[0]!.name)!;
const rows = targets.map((t, i) => {
  const m = max.get(t.name)!;
  const f = fixed.get(t.name)!;
  return [t.name, m.rps.toFixed(0), `${m.p50} / ${m.p99}`, `${f.p50.toFixed(3)} / ${f.p99.toFixed(3)}`, i === 0 ? '-' : (f.p50 - base.p50).toFixed(3), m.errors + m.non2xx + f.errors];
});
console.log(table(['target (tools/call echo)', `max req/s (${CONNS} conns)`, 'p50 / p99 ms at max', `p50 / p99 ms at ${RATE} req/s`, `added p50 ms at ${RATE} req/s`, 'errors'], rows));
const ratio = max.get(targets[1]!.name)!.rps / max.get(targets[0]!.name)!.rps;
console.log(`\nthrough the bridge (2025 session): ${(ratio * 100).toFixed(0)}% of the baseline's throughput`);

await stop(bridge);
await stop(server);
await stop(http);

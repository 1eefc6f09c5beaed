/**
 * A real browser enforcing CORS: a page on one origin runs the official MCP SDK client (bundled
 * for the browser) against the sidecar on another origin, with server-everything behind it.
 * From an allowed origin the client connects and lists tools (preflights pass without
 * credentials, Mcp-Session-Id is readable), a refusal is readable with its challenge, and a page
 * on any other origin cannot reach the MCP server at all.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { build } from 'esbuild';
import { launchChromium, type Browser } from '../helpers/browser.ts';
import { startEverything, type Everything } from '../helpers/everything.ts';
import { startSidecar, type RunningSidecar } from '../helpers/sidecar.ts';

const KEY = 'browser-key-9c8b7a6f5e';

/** A page origin: `/` loads the bundled client, nothing else. */
async function servePage(script: string): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url === '/client.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>mcp page</title><script src="/client.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('a browser page on another origin, through the sidecar', () => {
  let everything: Everything;
  let sidecar: RunningSidecar;
  let browser: Browser;
  let allowed: { origin: string; server: Server };
  let other: { origin: string; server: Server };
  let mcpUrl: string;

  before(async () => {
    const bundle = await build({ entryPoints: [join(import.meta.dirname, 'browser', 'mcp-page-client.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'chrome120', write: false, logLevel: 'silent' });
    const script = bundle.outputFiles[0]!.text;
    [allowed, other] = [await servePage(script), await servePage(script)];
    everything = await startEverything('streamableHttp');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: everything.url, MCP_AUTH_KEY: KEY, MCP_AUTH_ALLOWED_ORIGINS: allowed.origin });
    // The sidecar on "localhost", the pages on 127.0.0.1: different origins by host and port.
    mcpUrl = `${sidecar.url.replace('127.0.0.1', 'localhost')}/mcp`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await sidecar?.close();
    await everything?.stop();
    allowed?.server.close();
    other?.server.close();
  });

  test('allowed origin: the SDK client connects with the key and lists the tools; the session id is readable', async () => {
    const r = await browser.evaluate<{ tools?: string[]; sessionId?: string; error?: string }>(`${allowed.origin}/`, `listTools(${JSON.stringify(mcpUrl)}, { 'X-API-Key': ${JSON.stringify(KEY)} })`);
    assert.equal(r.error, undefined);
    assert.ok(r.tools?.includes('echo'), JSON.stringify(r));
    assert.match(r.sessionId ?? '', /\S/, 'Mcp-Session-Id is exposed to the page');
    assert.ok(sidecar.logs.some((l) => l.method === 'OPTIONS' && l.status === 204), 'the browser sent preflights and the sidecar answered them');
  });

  test('allowed origin, wrong key, every MCP request header: the 401 and its challenge are readable', async () => {
    const r = await browser.evaluate<{ status: number; challenge: string | null; body: string } | { error: string }>(
      `${allowed.origin}/`,
      `fetch(${JSON.stringify(mcpUrl)}, { method: 'POST', headers: {
         'X-API-Key': 'wrong', 'Content-Type': 'application/json', 'Accept': 'application/json, text/event-stream',
         'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo', 'Mcp-Param-Region': 'eu-west-1',
         'Mcp-Session-Id': 'nope', 'Last-Event-ID': '1', 'Authorization': 'Bearer not-used' },
         body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'hi' } } }) })
       .then(async (res) => ({ status: res.status, challenge: res.headers.get('WWW-Authenticate'), body: await res.text() }), (err) => ({ error: String(err) }))`,
    );
    assert.deepEqual(r, { status: 401, challenge: 'ApiKey realm="mcp-warden", header="X-API-Key"', body: '{"error":"Unauthorized","message":"Invalid API key"}' });
  });

  test('another origin: the browser cannot reach the MCP server (403 on the preflight)', async () => {
    const before = sidecar.logs.length;
    const r = await browser.evaluate<{ tools?: string[]; error?: string }>(`${other.origin}/`, `listTools(${JSON.stringify(mcpUrl)}, { 'X-API-Key': ${JSON.stringify(KEY)} })`);
    assert.equal(r.tools, undefined);
    assert.match(r.error ?? '', /Failed to fetch/);
    assert.ok(sidecar.logs.slice(before).some((l) => l.method === 'OPTIONS' && l.status === 403), 'refused as a foreign Origin');
  });
});

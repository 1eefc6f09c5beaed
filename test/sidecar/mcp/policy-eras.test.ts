/**
 * Issue 10, item 6: tool policy, the tools/list filter and per-tool limits work the same in both
 * eras: a 2025 client (v1 SDK, `initialize`) and a 2026-07-28 client (v2 SDK) against one v2 server
 * (SSE responses, so the filter rewrites event streams) through one sidecar.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient } from '../../helpers/mcp-client.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { startV2Server, type V2Server } from '../../helpers/v2-server.ts';
import { connectV2, type V2Client } from '../../helpers/v2-client.ts';

const KEYS = ['eras-key-legacy-0123456789', 'eras-key-modern-0123456789'];

describe('policy and per-tool limits in both eras', () => {
  let dir: string;
  let server: V2Server;
  let sidecar: RunningSidecar;
  let legacy: Client;
  let modern: V2Client;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warden-eras-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'tools:\n  allow: [echo, leak, query, deploy]\nrateLimit:\n  tools:\n    leak: 1\n');
    server = await startV2Server('sse');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEYS.join(','), MCP_AUTH_CONFIG_FILE: file });
    legacy = await connectClient(sidecar.url, 'streamableHttp', { 'X-API-Key': KEYS[0]! });
    modern = await connectV2(`${sidecar.url}/mcp`, { 'X-API-Key': KEYS[1]! });
  });
  after(async () => {
    await legacy?.close();
    await modern?.close();
    await sidecar?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tools/list over SSE shows only the allowed tools, in both eras', async () => {
    const names = (tools: { name: string }[]) => tools.map((t) => t.name).sort();
    assert.deepEqual(names((await legacy.listTools()).tools), ['deploy', 'echo', 'leak', 'query']);
    assert.deepEqual(names((await modern.client.listTools(undefined, { cacheMode: 'bypass' })).tools), ['deploy', 'echo', 'leak', 'query']);
  });

  test('a tool off the allow list is refused in both eras, and the server never sees it', async () => {
    const seen = server.seen.length;
    await assert.rejects(legacy.callTool({ name: 'forbidden', arguments: {} }), /Tool "forbidden" is not permitted/);
    await assert.rejects(modern.client.callTool({ name: 'forbidden', arguments: {} }), /Tool "forbidden" is not permitted/);
    assert.equal(server.seen.length, seen);
  });

  test('per-tool limits count per identity, whichever era the caller speaks', async () => {
    for (const c of [(a: { name: string; arguments: Record<string, unknown> }) => legacy.callTool(a), (a: { name: string; arguments: Record<string, unknown> }) => modern.client.callTool(a)]) {
      await c({ name: 'leak', arguments: {} });
      await assert.rejects(c({ name: 'leak', arguments: {} }), /429|Too Many Requests|Rate limit/);
      // Other tools are not limited.
      await c({ name: 'echo', arguments: { message: 'still fine' } });
    }
    const audits = sidecar.logs.filter((l) => l.name === 'audit' && l.tool === 'leak');
    assert.deepEqual(
      audits.map((a) => [a.era, a.status]),
      [
        ['legacy', 200],
        ['legacy', 429],
        ['modern', 200],
        ['modern', 429],
      ],
    );
  });
});

/**
 * Issue 10, acceptance 2: a 2025-era client (the v1 SDK, `initialize` handshake, no mirrored headers)
 * against the v2 server (its stateless legacy fallback) through the sidecar, with the same policy and
 * DLP as the modern tests: results equal the direct ones except for the intended differences.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient } from '../../helpers/mcp-client.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { LEAKED, startV2Server, type V2Server } from '../../helpers/v2-server.ts';

const KEY = 'v1-v2-key-0123456789abcdef';

describe('MCP SDK v1 client against the v2 server through the sidecar (legacy era)', () => {
  let server: V2Server;
  let sidecar: RunningSidecar;
  let direct: Client;
  let via: Client;
  before(async () => {
    server = await startV2Server('json');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEY, MCP_AUTH_DENY_TOOLS: 'forbidden', MCP_AUTH_DLP_REQUESTS: 'true' });
    direct = await connectClient(new URL(server.url).origin, 'streamableHttp');
    via = await connectClient(sidecar.url, 'streamableHttp', { 'X-API-Key': KEY });
  });
  after(async () => {
    await via?.close();
    await direct?.close();
    await sidecar?.close();
    await server?.close();
  });

  test('initialize negotiates a 2025 revision; tools/list is filtered, the rest equal', async () => {
    assert.equal(via.getServerVersion()?.name, 'warden-v2-test');
    const d = await direct.listTools();
    const v = await via.listTools();
    assert.deepEqual(v, { ...d, tools: d.tools.filter((t) => t.name !== 'forbidden') });
    const legacy = server.seen.filter((s) => s.headers['x-forwarded-for'] !== undefined);
    assert.ok(legacy.length > 0 && legacy.every((s) => s.headers['mcp-method'] === undefined), 'a 2025 client sends no mirrored headers');
  });

  test('tools/call, resources/read, prompts/get equal the direct results; a secret is redacted; a denied tool is refused', async () => {
    const echo = { name: 'echo', arguments: { message: 'legacy hello' } };
    assert.deepEqual(await via.callTool(echo), await direct.callTool(echo));
    const leak = await via.callTool({ name: 'leak', arguments: {} });
    assert.deepEqual(leak.content, [{ type: 'text', text: 'token [REDACTED:github-pat]' }]);
    assert.deepEqual((await direct.callTool({ name: 'leak', arguments: {} })).content, [{ type: 'text', text: `token ${LEAKED}` }]);
    await assert.rejects(via.callTool({ name: 'forbidden', arguments: {} }), /Tool "forbidden" is not permitted/);
    assert.deepEqual(await via.readResource({ uri: 'file:///config.json' }), await direct.readResource({ uri: 'file:///config.json' }));
    const p = { name: 'greet', arguments: { name: 'Ada' } };
    assert.deepEqual(await via.getPrompt(p), await direct.getPrompt(p));
  });

  test('audit lines record the legacy era and the negotiated revision', () => {
    const calls = sidecar.logs.filter((l) => l.name === 'audit' && l.method === 'tools/call');
    assert.ok(calls.length >= 3);
    for (const a of calls) {
      assert.equal(a.era, 'legacy');
      assert.match(String(a.protocolVersion), /^2025-/);
    }
    const init = sidecar.logs.find((l) => l.name === 'audit' && l.method === 'initialize');
    assert.equal(init?.era, 'legacy');
    assert.match(String(init?.protocolVersion), /^2025-/);
  });
});

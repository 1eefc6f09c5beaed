/**
 * Issue 10, acceptance 1: the MCP SDK v2 client and a v2 server (2026-07-28) through the sidecar, in
 * the server's JSON and SSE response modes, with API keys, tool policy, response and request DLP on.
 * Every result is compared with the same call made directly to the server: equal, except for the
 * intended differences (a redacted secret, a tool policy hides, the tools/list cache scope).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { ASKED, LEAKED, startV2Server, type V2Server } from '../../helpers/v2-server.ts';
import { connectV2, type V2Client } from '../../helpers/v2-client.ts';
import { until } from '../../helpers/wait.ts';

const KEY = 'v2-sdk-key-0123456789abcdef';

for (const mode of ['json', 'sse'] as const) {
  describe(`MCP SDK v2 client and server through the sidecar (${mode} responses)`, () => {
    let server: V2Server;
    let sidecar: RunningSidecar;
    let direct: V2Client;
    let via: V2Client;
    before(async () => {
      server = await startV2Server(mode);
      sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEY, MCP_AUTH_DENY_TOOLS: 'forbidden', MCP_AUTH_DLP_REQUESTS: 'true' });
      direct = await connectV2(server.url);
      via = await connectV2(`${sidecar.url}/mcp`, { 'X-API-Key': KEY });
    });
    after(async () => {
      await via?.close();
      await direct?.close();
      await sidecar?.close();
      await server?.close();
    });

    test('discover: the modern era is negotiated through the sidecar, with the same DiscoverResult', () => {
      assert.equal(via.client.getProtocolEra(), 'modern');
      assert.equal(via.client.getNegotiatedProtocolVersion(), '2026-07-28');
      assert.deepEqual(via.client.getDiscoverResult(), direct.client.getDiscoverResult());
      const discover = server.seen.find((s) => s.headers['x-forwarded-for'] !== undefined && s.headers['mcp-method'] === 'server/discover');
      assert.ok(discover, 'the sidecar forwarded server/discover');
      assert.equal(discover.headers['x-api-key'], undefined, 'the key never reaches the server');
    });

    test('tools/list: filtered by policy; ttlMs kept; a filtered list is private to the caller', async () => {
      const d = await direct.client.listTools(undefined, { cacheMode: 'bypass' });
      const v = await via.client.listTools(undefined, { cacheMode: 'bypass' });
      assert.ok(d.tools.some((t) => t.name === 'forbidden'));
      const raw = (r: unknown) => r as { ttlMs?: number; cacheScope?: string };
      assert.equal(raw(d).cacheScope, 'public');
      assert.deepEqual(v, { ...d, cacheScope: 'private', tools: d.tools.filter((t) => t.name !== 'forbidden') });
      assert.equal(raw(v).ttlMs, 60_000);
    });

    test('tools/call: results equal the direct ones; a secret in a result is redacted', async () => {
      const args = { name: 'echo', arguments: { message: 'hello through warden' } };
      assert.deepEqual(await via.client.callTool(args), await direct.client.callTool(args));
      const leak = await via.client.callTool({ name: 'leak', arguments: {} });
      const leakDirect = await direct.client.callTool({ name: 'leak', arguments: {} });
      assert.deepEqual(leakDirect.content, [{ type: 'text', text: `token ${LEAKED}` }]);
      assert.deepEqual(leak, { ...leakDirect, content: [{ type: 'text', text: 'token [REDACTED:github-pat]' }] });
    });

    test('tools/call of a denied tool is refused by the sidecar and never reaches the server', async () => {
      const before = server.seen.length;
      await assert.rejects(via.client.callTool({ name: 'forbidden', arguments: {} }), /Tool "forbidden" is not permitted/);
      assert.equal(server.seen.length, before);
      assert.deepEqual((await direct.client.callTool({ name: 'forbidden', arguments: {} })).content, [{ type: 'text', text: 'ran' }]);
    });

    test('an x-mcp-header tool: Mcp-Param-Region reaches the server as the client sent it, and the call works', async () => {
      const args = { name: 'query', arguments: { region: 'eu-north-1', sql: 'select 1' } };
      await via.client.listTools(); // the client mirrors x-mcp-header arguments from the tool definitions it holds
      const v = await via.client.callTool(args);
      assert.deepEqual(v, await direct.client.callTool(args));
      const seen = server.seen.filter((s) => s.headers['x-forwarded-for'] !== undefined && s.headers['mcp-name'] === 'query').at(-1);
      assert.equal(seen?.headers['mcp-param-region'], 'eu-north-1');
    });

    test('elicitation through InputRequiredResult: the question is redacted, the JWT-shaped requestState survives both ways', async () => {
      const minted = server.minted.length;
      const v = await via.client.callTool({ name: 'deploy', arguments: { env: 'prod' } });
      const d = await direct.client.callTool({ name: 'deploy', arguments: { env: 'prod' } });
      assert.deepEqual(v, d);
      assert.match(JSON.stringify(v.content), /state verified/);
      assert.deepEqual(via.questions, [`Deploy to prod with key [REDACTED:aws-access-key-id]?`]);
      assert.deepEqual(direct.questions, [`Deploy to prod with key ${ASKED}?`]);
      // The state the server minted for the call through the sidecar came back byte for byte in the
      // retry (through response DLP to the client and request DLP back), and it is JWT-shaped: a
      // rule DLP applies everywhere else.
      const state = server.minted[minted]!;
      assert.match(state, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
      const retry = server.seen.find((s) => s.headers['x-forwarded-for'] !== undefined && s.body.includes('"requestState"') && s.body.includes(state));
      assert.ok(retry, 'the retry carried the exact requestState');
    });

    test('resources/read and prompts/get equal the direct results', async () => {
      for (const uri of ['file:///config.json', 'vault://items/abc']) {
        assert.deepEqual(await via.client.readResource({ uri }, { cacheMode: 'bypass' }), await direct.client.readResource({ uri }, { cacheMode: 'bypass' }));
      }
      const p = { name: 'greet', arguments: { name: 'Ada' } };
      assert.deepEqual(await via.client.getPrompt(p), await direct.client.getPrompt(p));
    });

    test('a subscriptions/listen stream delivers list_changed through the sidecar', async () => {
      let changed = 0;
      via.client.setNotificationHandler('notifications/tools/list_changed', () => {
        changed++;
      });
      const sub = await via.client.listen({ toolsListChanged: true });
      try {
        assert.equal(sub.honoredFilter.toolsListChanged, true);
        server.notify.toolsChanged();
        await until(() => changed === 1, 'list_changed through the sidecar');
      } finally {
        await sub.close();
      }
      assert.equal(await sub.closed, 'local');
    });

    test('audit lines record the era and the protocol revision', () => {
      const audits = sidecar.logs.filter((l) => l.name === 'audit');
      const calls = audits.filter((a) => a.method === 'tools/call');
      assert.ok(calls.length >= 4);
      for (const a of calls) {
        assert.equal(a.era, 'modern');
        assert.equal(a.protocolVersion, '2026-07-28');
      }
      assert.ok(audits.some((a) => a.method === 'subscriptions/listen'));
      assert.ok(!sidecar.rawLogs().includes(KEY) && !sidecar.rawLogs().includes(LEAKED) && !sidecar.rawLogs().includes(ASKED));
    });
  });
}
